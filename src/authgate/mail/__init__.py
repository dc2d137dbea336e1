"""Turning a queued ``domain.mail.Message`` into mail that arrives: composing it
from templates (``compose.py``) and handing it to a transport (``transport.py``:
SMTP in ``smtp.py``, ``.eml`` files in ``files.py``). The sender that drives them
is ``server.mail_sender``. Framework-free: domain and util only."""
