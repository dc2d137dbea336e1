"""The bases of request and response bodies: snake_case out, camelCase
accepted in (``expiresInDays`` as well as ``expires_in_days``)."""

import re
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AliasGenerator,
    BaseModel,
    ConfigDict,
    field_validator,
)
from pydantic.alias_generators import to_camel

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


class RequestBody(BaseModel):
    """What a client sends: every field is checked, text included."""

    model_config = ConfigDict(
        alias_generator=AliasGenerator(validation_alias=to_camel),
        validate_by_name=True,
        validate_by_alias=True,
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
