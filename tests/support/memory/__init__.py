"""Every store Protocol of ``authgate.domain`` in plain Python dicts, so a domain
rule can be tested in milliseconds without a database.

Each store follows its SQL repository in ``authgate.storage.repos`` (the same
uniqueness rules, ordering, ``None`` when missing and expiry comparisons);
``tests/unit/domain/test_stores_contract.py`` runs one suite against both, so
the two cannot drift apart. What a database gives and these do not: rollback
(a :class:`MemoryStores` is one transaction that always commits) and foreign
keys beyond the few the domain relies on (an org's cascade, a session's
refresh tokens, a membership of a missing user).
"""

from tests.support.memory.database import MemoryDatabase
from tests.support.memory.stores import MemoryStores

__all__ = ["MemoryDatabase", "MemoryStores"]
