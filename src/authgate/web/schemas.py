"""The one base for request and response bodies: snake_case out, camelCase
accepted in (``expiresInDays`` as well as ``expires_in_days``)."""

from typing import Generic, TypeVar

from pydantic import AliasGenerator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

T = TypeVar("T")


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=AliasGenerator(validation_alias=to_camel),
        validate_by_name=True,
        validate_by_alias=True,
        str_strip_whitespace=False,
    )


class Page(ApiModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class ErrorBody(ApiModel):
    error: str
    error_description: str
