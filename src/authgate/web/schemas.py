"""The bases of request and response bodies: snake_case out, and in: the
snake_case names are the documented ones, and the camelCase spelling of each
(``expiresInDays`` for ``expires_in_days``) is accepted as an alias."""

import re
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AliasChoices,
    AliasGenerator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

T = TypeVar("T")

#: NUL (which PostgreSQL text cannot hold) and UTF-16 surrogates (which JSON's
#: ``"\ud800"`` escapes can smuggle in, and which are not UTF-8 at all).
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> bool:
    """Whether every database can hold this text (no NUL, no lone surrogate)."""
    return not _NOT_TEXT.search(text)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)


def _storable_text(text: str) -> str:
    if not storable(text):
        raise ValueError("must not contain NUL or unpaired surrogate characters")
    return text


#: For query and path parameters (``RequestBody`` checks bodies itself):
#: ``Annotated[str, Query(...), Storable]`` refuses at the edge (400) what a
#: database would fail on (500).
Storable = AfterValidator(_storable_text)


def _snake_or_camel(name: str) -> AliasChoices:
    """The field's own (snake_case) name first, so the schema shows it."""
    return AliasChoices(name, to_camel(name))


def _mention_camel_case(schema: JsonDict, _model: type[Any]) -> None:
    """Say in the schema which camelCase aliases are accepted too."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    for name, field in properties.items():
        camel = to_camel(name)
        if camel != name and isinstance(field, dict):
            said = field.get("description")
            alias = f"Also accepted as `{camel}`."
            field["description"] = f"{said} {alias}" if said else alias


class RequestBody(BaseModel):
    """What a client sends: every field is checked, text included."""

    model_config = ConfigDict(
        alias_generator=AliasGenerator(validation_alias=_snake_or_camel),
        json_schema_extra=_mention_camel_case,
        str_strip_whitespace=False,
    )

    @field_validator("*", mode="after")
    @classmethod
    def _only_storable_text(cls, value: Any) -> Any:
        """Refuse at the edge (400) the strings that would otherwise fail deep
        inside, in a database driver or an encoder (500)."""
        if not all(storable(text) for text in _strings(value)):
            raise ValueError("must not contain NUL or unpaired surrogate characters")
        return value


class ResponseBody(BaseModel):
    """What the server answers, built from data it already holds: no
    validators, since checking every field of every answer cost /me a tenth
    of its time."""


class Page(ResponseBody, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class Error(ResponseBody):
    """Every refusal, whatever its status (``web/errors.py`` renders it)."""

    error: str = Field(description="A stable code, such as ``invalid_request``.")
    error_description: str = Field(description="What went wrong, for a person.")


#: What each refusal means, as ``/openapi.json`` says it.
FAILURES = {
    400: "The request is not valid: a field, a parameter or the body.",
    401: "No valid credential, or one that does not prove enough (see "
    "``WWW-Authenticate``).",
    403: "The credential may not do this.",
    404: "Nothing by that name here, or nothing this caller may see.",
    409: "This conflicts with the current state.",
    413: "The body is larger than the server takes (`AUTHGATE_MAX_BODY_BYTES`).",
    429: "Too many requests from this address; ``Retry-After`` says when to try again.",
}


def failures(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route for the refusals it answers, beyond the
    ones ``web/openapi.py`` derives from its parameters and dependencies."""
    return {
        status: {"model": Error, "description": FAILURES[status]} for status in statuses
    }
