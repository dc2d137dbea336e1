"""A queued message rendered into the mail that is sent: ``multipart/alternative``
with a plain-text part and an HTML part, from the templates
``templates/<name>.subject.txt``, ``<name>.txt`` and ``<name>.html``.

The HTML extends ``layout.html``, the web pages' look (``web/templates/base.html``
and ``web/static/style.css``) in inline styles, since mail clients drop
stylesheets, with no external resource (no image, font or stylesheet a client
would fetch, telling the sender that and when the mail was opened). Values are
escaped in HTML; text and the subject take them as they are, the subject on
one line. A template names a value it was not given: an error, never a blank
where a link should be.

Every template also gets ``site`` (the public URL) and ``host`` (its host name),
which a value of the same name cannot override. The ``Message-ID`` is the
queue's id at the public host, so a message sent twice (delivery is at least
once) is recognisably the same message.
"""

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    select_autoescape,
)

from authgate.domain.mail import Message

TEMPLATES = Path(__file__).resolve().parent / "templates"


class Unrenderable(Exception):
    """The message cannot be made from its template (unknown template, a value
    missing, a header that would not be one): sending it again cannot help."""


class Composer:
    def __init__(self, *, sender: str, site: str, host: str) -> None:
        #: the ``From`` header (``AUTHGATE_MAIL_FROM``)
        self.sender = sender
        self.site = site
        self.host = host
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(("html",), default_for_string=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def compose(self, message: Message, message_id: str, at: datetime) -> EmailMessage:
        values = {**message.values, "site": self.site, "host": self.host}
        try:
            subject = self._render(f"{message.template}.subject.txt", values)
            text = self._render(f"{message.template}.txt", values)
            html = self._render(f"{message.template}.html", values)
            mail = EmailMessage()
            mail["From"] = self.sender
            mail["To"] = message.to
            mail["Subject"] = " ".join(subject.split())
            mail["Date"] = format_datetime(at)
            mail["Message-ID"] = f"<{message_id}@{self.host}>"
        except (TemplateError, ValueError) as exc:
            # ValueError: a header with a line break, or not an address.
            raise Unrenderable(
                f"{message.template}: {type(exc).__name__}: {exc}"[:200]
            ) from None
        mail.set_content(text)
        mail.add_alternative(html, subtype="html")
        return mail

    def _render(self, name: str, values: dict[str, str]) -> str:
        return self._env.get_template(name).render(values)
