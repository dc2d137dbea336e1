"""The ``server`` extra alone runs a server: PostgreSQL's driver, Redis and the
location reader (the ``postgres``, ``redis`` and ``geoip`` extras) are imported
only when their setting is set, so no module of Authgate imports them at load
and a server on SQLite starts and answers without them."""

import os
import subprocess
import sys
from pathlib import Path

from authgate.util.extras import MODULES

#: Run in a fresh interpreter, where the optional extras' modules are made
#: unimportable before anything of Authgate loads.
SERVER_ALONE = """
import importlib, pkgutil, sys
for name in sys.argv[2:]:
    sys.modules[name] = None  # as if its extra were not installed
import authgate
for found in pkgutil.walk_packages(authgate.__path__, "authgate."):
    if found.name == "authgate.__main__" or ".migrations" in found.name:
        continue  # the CLI's entry point runs; Alembic runs the migrations
    importlib.import_module(found.name)
from starlette.testclient import TestClient
from authgate.app import create_app
from authgate.config import Settings
app = create_app(Settings(_env_file=None, data_dir=sys.argv[1]))
with TestClient(app, base_url="http://127.0.0.1:8000") as client:
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200
print("served")
"""


def test_the_server_extra_alone_loads_every_module_and_serves(tmp_path: Path) -> None:
    optional = sorted(MODULES["postgres"] | MODULES["redis"] | MODULES["geoip"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    result = subprocess.run(
        [sys.executable, "-c", SERVER_ALONE, str(tmp_path / "data"), *optional],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no stray .env
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "served"
