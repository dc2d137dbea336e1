"""One repository per concept, implementing the store Protocol the domain declares.
They return frozen domain values (never ORM rows) and never commit."""
