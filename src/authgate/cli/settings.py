"""Settings for a command, built once. A bad value ends the command with one
readable line per problem, never a traceback, and never echoes the input
(pydantic's own message would print part of ``AUTHGATE_SECRET_KEY``)."""

from typing import TYPE_CHECKING, Any

from authgate.cli import output

if TYPE_CHECKING:
    from authgate.config import Settings


def load_settings(**overrides: Any) -> "Settings":
    from pydantic import ValidationError

    from authgate.config import SettingFileError, Settings

    try:
        return Settings(**overrides)
    except SettingFileError as exc:
        output.error(str(exc))
        raise SystemExit(2) from None
    except ValidationError as exc:
        for error in exc.errors(include_input=False, include_url=False):
            message = str(error["msg"]).removeprefix("Value error, ")
            field = ".".join(str(part) for part in error["loc"])
            where = f"AUTHGATE_{field.upper()}: " if field else ""
            output.error(f"{where}{message}")
        raise SystemExit(2) from None
