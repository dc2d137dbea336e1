"""The one renderer: aligned tables and ✓/⚠ lines for people, JSON with ``--json``.

Colour only on a terminal and never when ``NO_COLOR`` is set (no-color.org).
"""

import os
import sys

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, TextIO


def _color(code: str, text: str, stream: "TextIO | None" = None) -> str:
    """Colour ``text`` if the stream it goes to is a terminal."""
    if os.environ.get("NO_COLOR") or not (stream or sys.stdout).isatty():
        return text
    return f"\033[{code}m{text}\033[0m"


def line(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def success(text: str) -> None:
    line(f"{_color('32', '✓')} {text}")


def warning(text: str) -> None:
    sys.stderr.write(f"{_color('33', '⚠', sys.stderr)} {text}\n")


def note(text: str) -> None:
    """Context for a person (which database, which server), on standard error
    so that standard output stays what scripts capture."""
    sys.stderr.write(text + "\n")


def error(text: str) -> None:
    sys.stderr.write(f"{_color('31', 'error:', sys.stderr)} {text}\n")


def as_json(data: "Any") -> None:
    import json

    line(json.dumps(data, indent=2, sort_keys=True, default=str))


def table(
    rows: "Sequence[dict[str, Any]]", columns: "Sequence[tuple[str, str]]"
) -> None:
    """``columns`` are (key, HEADER) pairs; empty lists print a friendly line."""
    if not rows:
        line("Nothing to show.")
        return
    cells = [[_cell(row.get(key)) for key, _ in columns] for row in rows]
    headers = [header for _, header in columns]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    line("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row_cells in cells:
        line(
            "  ".join(
                c.ljust(w) for c, w in zip(row_cells, widths, strict=True)
            ).rstrip()
        )


def _cell(value: "Any") -> str:
    if value is None:
        return "never"
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def when(value: str | None) -> str | None:
    """An ISO timestamp as ``2026-01-15`` or a relative "2 hours ago"."""
    if not value:
        return None
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    seconds = (datetime.now(UTC) - moment).total_seconds()
    if 0 <= seconds < 60:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if 0 < seconds < 7 * 86400 and seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return moment.date().isoformat()
