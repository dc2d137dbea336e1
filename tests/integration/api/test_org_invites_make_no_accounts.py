"""On an invite-only instance an organization invite adds an existing account
(accepted by its signed-in owner); it creates one only when registration is
open or ``AUTHGATE_ORG_INVITES_CREATE_ACCOUNTS`` is set, so a member who may
invite cannot bring in people no administrator admitted."""

from collections.abc import Callable

import httpx
import pytest

from tests.support import db
from tests.support.actions import Actions, random_email, random_name
from tests.support.asserts import error
from tests.support.live import LiveServer

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_an_org_invite_creates_no_account_on_an_invite_only_instance(
    actions: Actions, client: httpx.Client, database_url: str
) -> None:
    owner = actions.user()
    org = actions.make_org(owner)["id"]
    stranger = random_email()
    taken = actions.person().username
    taken_email = f"{taken}@example.com"
    answers = []
    for email in (stranger, taken_email):
        code = actions.org_invite(owner, org, email)["code"]
        name = random_name()
        answers.append(
            error(actions.register(name, invite_code=code), 403, "forbidden")
        )
        assert db.user(database_url, name) is None
    # One answer whether or not the invited address has an account.
    assert answers[0] == answers[1]
    assert "sign in" in answers[0]["error_description"]
    # The invite still works for the account it names, signed in.
    joiner = actions.login(taken)
    code = actions.org_invite(owner, org, taken_email, "viewer")["code"]
    accepted = client.post(
        "/api/v1/org-invites/accept", headers=joiner.bearer, json={"code": code}
    )
    assert accepted.status_code == 200, accepted.text


@pytest.mark.parametrize(
    "setting", [{"allow_registration": True}, {"org_invites_create_accounts": True}]
)
def test_open_registration_or_the_setting_let_it_create_the_account(
    start_server: Callable[..., LiveServer], database_url: str, setting: dict[str, bool]
) -> None:
    with start_server(**setting).client() as client:
        actions = Actions(client)
        owner = actions.user()
        org = actions.make_org(owner)["id"]
        email = random_email()
        code = actions.org_invite(owner, org, email, "viewer")["code"]
        name = random_name()
        registered = actions.register(name, invite_code=code)
        assert registered.status_code == 201, registered.text
        assert registered.json()["email"] == email
        joined = actions.client.get("/api/v1/orgs", headers=actions.login(name).bearer)
        assert [(o["id"], o["role"]) for o in joined.json()["items"]] == [
            (org, "viewer")
        ]
