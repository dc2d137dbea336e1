"""The deployment kit (``Dockerfile``, ``compose.yaml``, ``deploy/``) says only
what Authgate understands: every ``AUTHGATE_`` variable it sets is a setting
(or a secret setting's ``_FILE``), its values pass the settings' checks, and
every ``authgate`` command it runs is one the CLI parses. Docker itself is not
run: the images cannot be pulled here."""

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped]

from authgate.cli import build_parser
from authgate.config import Settings, file_settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
UNIT = ROOT / "deploy" / "authgate.service"
UNIT_ENV = ROOT / "deploy" / "authgate.env"


pytestmark = pytest.mark.usefixtures("clean_environment")


def unknown_variables(names: list[str]) -> list[str]:
    readable = {f"AUTHGATE_{name.upper()}_FILE" for name in file_settings()}
    settings = {f"AUTHGATE_{name.upper()}" for name in Settings.model_fields}
    return [name for name in names if name not in settings | readable]


def unknown_commands(argvs: list[list[str]]) -> list[str]:
    """The ``authgate`` command lines the CLI's parser refuses."""
    refused = []
    for argv in argvs:
        assert Path(argv[0]).name == "authgate", argv
        try:
            build_parser(argv[1:]).parse_args(argv[1:])
        except SystemExit:
            refused.append(shlex.join(argv))
    return refused


def settings_from(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Settings:
    """Settings as the server would build them from ``env``; each ``_FILE``
    points at a stand-in secret, so the files' values are checked too."""
    stand_ins = {
        "AUTHGATE_SECRET_KEY_FILE": "s" * 48,
        "AUTHGATE_DATABASE_URL_FILE": "postgresql+asyncpg://authgate:pw@postgres/ag",
        "AUTHGATE_REDIS_URL_FILE": "redis://:pw@redis:6379/0",
    }
    for name, value in env.items():
        if name.endswith("_FILE"):
            path = tmp_path / name
            path.write_text(stand_ins[name] + "\n")
            value = str(path)
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)


# Dockerfile


def dockerfile() -> DockerfileParser:
    return DockerfileParser(path=str(DOCKERFILE), cache_content=True)


def final_stage(parser: DockerfileParser) -> list[dict[str, Any]]:
    structure: list[dict[str, Any]] = parser.structure
    starts = [i for i, s in enumerate(structure) if s["instruction"] == "FROM"]
    return structure[starts[-1] :]


def instruction(parser: DockerfileParser, name: str) -> str:
    (value,) = [s["value"] for s in final_stage(parser) if s["instruction"] == name]
    return str(value)


def test_the_image_sets_only_real_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {k: v for k, v in dockerfile().envs.items() if k.startswith("AUTHGATE_")}
    assert unknown_variables(list(env)) == []
    settings = settings_from(env, monkeypatch, tmp_path)
    assert settings.host == "0.0.0.0"  # noqa: S104 - reached through the proxy
    assert instruction(dockerfile(), "EXPOSE") == str(settings.port)


def test_the_image_runs_authgate_serve_as_a_user_on_a_slim_base() -> None:
    parser = dockerfile()
    assert parser.baseimage.endswith("-slim")
    assert instruction(parser, "USER") not in {"root", "0"}
    command = json.loads(instruction(parser, "CMD"))
    assert command == ["authgate", "serve"]
    assert unknown_commands([command]) == []


def test_the_image_checks_its_health_on_healthz() -> None:
    check = instruction(dockerfile(), "HEALTHCHECK")
    assert re.search(r"--interval=\S+", check)
    assert "/healthz" in healthcheck_command()[-1]


def healthcheck_command() -> list[str]:
    """The HEALTHCHECK's exec form (run against a live server in
    ``tests/integration/test_healthcheck.py``)."""
    check = instruction(dockerfile(), "HEALTHCHECK")
    _options, _, command = check.partition("CMD ")
    parsed = json.loads(command)
    assert isinstance(parsed, list)
    return [str(part) for part in parsed]


def test_a_misspelt_setting_or_command_would_be_caught() -> None:
    assert unknown_variables(["AUTHGATE_SECRET_KEY_FILE", "AUTHGATE_SECRETKEY"]) == [
        "AUTHGATE_SECRETKEY"
    ]
    assert unknown_variables(["AUTHGATE_HOST_FILE"]) == ["AUTHGATE_HOST_FILE"]
    assert unknown_commands([["authgate", "db", "migrate"]]) == ["authgate db migrate"]


# compose.yaml


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def interpolated(value: str) -> str:
    """Compose's ``${NAME:?message}``, with the name the docs tell people to set."""
    given = {"PUBLIC_HOST": "auth.example.com"}
    return re.sub(
        r"\$\{(\w+)(?::?[?-][^}]*)?\}", lambda m: given[m.group(1)], str(value)
    )


def authgate_services() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, service in compose()["services"].items():
        if any(k.startswith("AUTHGATE_") for k in service.get("environment", {})):
            yield name, service


def test_compose_sets_only_real_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ((_, service),) = authgate_services()
    env = {k: interpolated(v) for k, v in service["environment"].items()}
    assert unknown_variables(list(env)) == []
    settings = settings_from(env, monkeypatch, tmp_path)
    assert settings.issuer == "https://auth.example.com"
    assert settings.database_url is not None
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.redis_url is not None
    # each secret file is one the service is given
    for variable, path in env.items():
        if variable.endswith("_FILE"):
            secret = path.removeprefix("/run/secrets/")
            assert secret in service["secrets"], variable
            assert secret in compose()["secrets"], secret
    assert unknown_commands([service.get("command", ["authgate", "serve"])]) == []


def test_compose_trusts_exactly_its_proxy() -> None:
    services = compose()["services"]
    ((_, authgate),) = authgate_services()
    proxy = services["proxy"]["networks"]["edge"]["ipv4_address"]
    assert authgate["environment"]["AUTHGATE_TRUSTED_PROXIES"] == proxy
    assert "ports" not in authgate, "Authgate is reached through the proxy only"
    assert compose()["networks"]["backend"]["internal"] is True


def test_compose_keeps_secrets_out_of_the_environment() -> None:
    for service in compose()["services"].values():
        for name, value in service.get("environment", {}).items():
            assert not re.search(r"(SECRET|PASSWORD|KEY)$", name), name
            assert "://" not in str(value) or "@" not in str(value), name


# deploy/authgate.service


def unit() -> list[tuple[str, str]]:
    """The unit's ``Key=value`` lines in order (keys repeat, so no dict)."""
    entries = []
    for line in UNIT.read_text().splitlines():
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            entries.append((key, value))
    return entries


def unit_environment() -> dict[str, str]:
    env: dict[str, str] = {}
    for key, value in unit():
        if key == "EnvironmentFile":
            path = value.removeprefix("-")
            assert path == "/etc/authgate/authgate.env"  # shipped as deploy/
            for line in UNIT_ENV.read_text().splitlines():
                if line and not line.startswith("#"):
                    name, _, setting = line.partition("=")
                    env[name] = setting
        elif key == "Environment":
            for pair in shlex.split(value):
                name, _, setting = pair.partition("=")
                env[name] = setting
    return env


def test_the_unit_sets_only_real_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = unit_environment()
    assert unknown_variables(list(env)) == []
    settings = settings_from(env, monkeypatch, tmp_path)
    assert settings.issuer.startswith("https://")
    assert settings.host == "127.0.0.1"
    # the secrets are its credentials (%d: their directory)
    credentials = {v.partition(":")[0] for k, v in unit() if k == "LoadCredential"}
    files = {v.removeprefix("%d/") for k, v in env.items() if k.endswith("_FILE")}
    assert files == credentials


def test_the_unit_runs_real_commands_as_a_user() -> None:
    commands = [shlex.split(v) for k, v in unit() if k.startswith("ExecStart")]
    assert [c[1:] for c in commands] == [["db", "upgrade"], ["serve"]]
    assert unknown_commands(commands) == []
    assert ("User", "authgate") in unit()
    assert ("NoNewPrivileges", "yes") in unit()
