"""The admin console (``/admin/…``), for instance administrators only: users,
invites, the audit log, OAuth clients and signing keys.

One router per concept; ``gate`` holds who may enter and what every page and
form of the console share.
"""

from fastapi import APIRouter

from authgate.web.pages.admin import audit, clients, invites, signing_keys, users

router = APIRouter(include_in_schema=False)
for part in (users, invites, audit, clients, signing_keys):
    router.include_router(part.router)
