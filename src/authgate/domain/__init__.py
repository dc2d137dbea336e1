"""Rules and use cases, one module per concept. No HTTP and no SQL: each concept
declares the store it needs as a Protocol; ``storage/repos`` implements them and
the caller owns the transaction."""
