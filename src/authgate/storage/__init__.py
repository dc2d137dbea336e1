"""The only package that knows SQL: tables, repositories implementing the domain's
store Protocols, the unit of work and migrations."""
