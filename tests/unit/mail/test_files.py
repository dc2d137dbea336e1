"""Without SMTP: each message an ``.eml`` file only its owner reads."""

import asyncio
import stat
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from authgate.domain.mail import Message
from authgate.mail.files import FilesTransport
from tests.unit.mail.test_compose import AT, COMPOSER


def test_a_message_is_written_whole_for_its_owner_only(tmp_path: Path) -> None:
    directory = tmp_path / "data" / "mail"
    message = COMPOSER.compose(
        Message("ada@example.com", "test", {"note": "hello"}), "msg_abc123", AT
    )
    where = asyncio.run(FilesTransport(directory).send(message))
    path = Path(where)
    assert path == directory / "msg_abc123.eml"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    parsed = message_from_bytes(path.read_bytes(), policy=default)
    assert parsed["Message-ID"] == "<msg_abc123@auth.example.com>"
    assert list(directory.iterdir()) == [path]
