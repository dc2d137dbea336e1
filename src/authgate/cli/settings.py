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


def database_shown(settings: "Settings") -> str:
    """The database a command works on, as an operator recognises it: without
    its password, and a SQLite file by its full path (the default data dir is
    relative, so the folder a command runs in chooses the file)."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    url = make_url(settings.sqlalchemy_url)
    if url.get_backend_name() == "sqlite" and url.database:
        url = url.set(database=str(Path(url.database).resolve()))
    return url.render_as_string(hide_password=True)
