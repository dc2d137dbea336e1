"""Every page path ``web.paths`` names is where a page route lives, so a
redirect or a template link built from it cannot point nowhere."""

from fastapi import APIRouter
from fastapi.routing import APIRoute

from authgate.web import paths
from authgate.web.pages import (
    admin,
    forgot,
    login,
    logout,
    orgs,
    reauth,
    register,
    reset,
    second_step,
    upstream,
    verify_email,
)
from authgate.web.pages import settings as settings_pages

ROUTERS: list[APIRouter] = [
    admin.router,
    forgot.router,
    login.router,
    logout.router,
    orgs.router,
    reauth.router,
    register.router,
    reset.router,
    second_step.router,
    settings_pages.router,
    upstream.router,
    upstream.dev_router,
    verify_email.router,
]


def test_every_page_path_is_a_route() -> None:
    routed = {
        route.path
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
    }
    named = {
        value
        for name, value in vars(paths).items()
        if name.isupper() and isinstance(value, str)
    }
    assert named - routed == set()
