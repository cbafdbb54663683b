"""deploy/: the systemd unit passes `systemd-analyze verify` (and a mistake in it does not), keeps its
hardening, and agrees with the example config and env file, which load as they are and uncommented."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from dataclasses import astuple
from pathlib import Path

import pytest

from reminder_service import secrets
from reminder_service.config import (
    _SECTIONS,
    CONFIG_ENV,
    DATABASE_URL_ENV,
    EmailSettings,
    TelegramSettings,
    load_config,
)
from reminder_service.domain.escalation.policy import DEFAULT_STAGES, Policy
from reminder_service.domain.escalation.settings import STAGE_KEYS

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "reminder-service.service"
CONFIG = DEPLOY / "config.example.toml"
ENV = DEPLOY / "reminder-service.env.example"
INSTALLED = "/opt/reminder-service/bin/reminder-service"
STATE_DIR = "/var/lib/reminder-service"

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd_analyze = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None,
    reason="systemd-analyze is not installed (Debian: apt-get install systemd; .ci/run installs it)",
)


def _stage(tmp_path: Path, text: str | None = None, *, keep_paths: bool = False) -> Path:
    """The unit as it would be installed, but with ExecStart=/ExecStartPre= pointing at a real executable:
    verify checks that the commands exist, and /opt/reminder-service is not installed here."""
    exe = tmp_path / "bin" / "reminder-service"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    exe.chmod(0o755)
    unit = tmp_path / "units" / "reminder-service.service"
    unit.parent.mkdir()
    text = UNIT.read_text(encoding="utf-8") if text is None else text
    unit.write_text(text if keep_paths else text.replace(INSTALLED, str(exe)), encoding="utf-8")
    return unit


def _analyze(*args: str) -> tuple[int, str]:
    assert SYSTEMD_ANALYZE is not None
    env = {**os.environ, "SYSTEMD_LOG_COLOR": "0", "SYSTEMD_PAGER": "", "LC_ALL": "C.UTF-8"}
    done = subprocess.run([SYSTEMD_ANALYZE, *args], capture_output=True, text=True, timeout=120, env=env)
    return done.returncode, (done.stdout + done.stderr).strip()


def _verify(unit: Path) -> tuple[int, str]:
    # --recursive-errors=no: a non-zero exit for any warning about this unit (without the option verify
    # exits 0 whatever it prints), but none for the host's own units it refers to (network-online.target).
    # --man=no: the unit lists no man page; --generators=no: generators need privileges and are irrelevant.
    return _analyze("verify", "--recursive-errors=no", "--man=no", "--generators=no", str(unit))


def _directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


# --- the unit ----------------------------------------------------------------------------------------


@needs_systemd_analyze
def test_unit_verifies_without_a_word(tmp_path: Path) -> None:
    code, output = _verify(_stage(tmp_path))
    assert (code, output) == (0, "")


@needs_systemd_analyze
@pytest.mark.parametrize(
    ("line", "broken", "complaint"),
    [
        ("ProtectSystem=strict", "ProtectSystm=strict", "Unknown key 'ProtectSystm'"),
        ("Type=notify", "Type=notifyy", "Failed to parse service type"),
        ("WatchdogSec=60", "WatchdogSec=sixty", "Failed to parse sec value"),
        ("RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "RestrictAddressFamilies=AF_UNIX AF_INETT",
         "Failed to parse address family"),
        # The trap this unit avoids: an empty fallback is a syntax error, so the credential would be
        # mandatory and the service would not start without the file.
        ("SetCredential=telegram-token:\\n", "SetCredential=telegram-token:", "Invalid syntax"),
    ],
)
def test_a_mistake_in_the_unit_fails_verification(tmp_path: Path, line: str, broken: str, complaint: str) -> None:
    text = UNIT.read_text(encoding="utf-8")
    assert re.search(f"^{re.escape(line)}$", text, re.M), f"the unit no longer has {line!r}"
    code, output = _verify(_stage(tmp_path, re.sub(f"^{re.escape(line)}$", broken, text, flags=re.M)))
    assert code != 0
    assert complaint in output


@needs_systemd_analyze
def test_a_missing_program_fails_verification(tmp_path: Path) -> None:
    code, output = _verify(_stage(tmp_path, keep_paths=True))
    assert code != 0
    assert f"Command {INSTALLED} is not executable" in output


@needs_systemd_analyze
def test_hardening_keeps_the_exposure_low(tmp_path: Path) -> None:
    # systemd's own score, 0 (locked down) to 10 (none); --threshold is in tenths. The unit scores 1.4.
    code, output = _analyze("security", "--offline=yes", "--threshold=20", str(_stage(tmp_path)))
    assert code == 0, output


def test_unit_runs_the_installed_service_as_the_brief_says() -> None:
    unit = _directives(UNIT.read_text(encoding="utf-8"))

    def one(key: str) -> str:
        assert len(unit.get(key, [])) == 1, f"{key}= should be set exactly once"
        return unit[key][0]

    assert one("ExecStart") == f"{INSTALLED} run"
    assert one("ExecStartPre") == f"{INSTALLED} db upgrade"
    expected = {
        "Type": "notify", "NotifyAccess": "main", "WatchdogSec": "60", "Restart": "on-failure",
        "RestartPreventExitStatus": "2", "KillSignal": "SIGTERM", "User": "reminder-service",
        "StateDirectory": "reminder-service", "ConfigurationDirectory": "reminder-service",
        "EnvironmentFile": "-/etc/reminder-service/env", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
        "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes", "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6", "RestrictNamespaces": "yes",
        "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes", "CapabilityBoundingSet": "",
    }
    assert {key: one(key) for key in expected} == expected
    assert "@system-service" in unit["SystemCallFilter"]
    assert "RestartSec" in unit and "TimeoutStopSec" in unit
    environment = dict(item.split("=", 1) for item in unit["Environment"])
    assert environment[CONFIG_ENV] == "/etc/reminder-service/config.toml"


def test_every_secret_is_a_credential_with_a_fallback() -> None:
    unit = _directives(UNIT.read_text(encoding="utf-8"))
    loaded = {value.split(":", 1)[0] for value in unit["LoadCredential"]}
    defaults = {value.split(":", 1)[0]: value.split(":", 1)[1] for value in unit["SetCredential"]}
    environment = dict(item.split("=", 1) for item in unit["Environment"])
    for name in (secrets.TELEGRAM_TOKEN, secrets.SMTP_PASSWORD, secrets.TELEGRAM_WEBHOOK_SECRET):
        credential = environment[f"{name}_FILE"].removeprefix("%d/")
        assert credential in loaded, f"{name}_FILE names a credential that is never loaded"
        # A blank default (stripped to nothing by read_secret: "not set") so a missing file is not fatal.
        assert defaults[credential] == "\\n"


# --- the example config ------------------------------------------------------------------------------


def _uncommented() -> str:
    """The example with every "# key = value" and "# [[table]]" example line switched on."""
    example = re.compile(r"^# ?((?:[a-z_]+ = .+)|(?:\[\[?[a-z_.]+\]\]?))$")
    return "\n".join(example.sub(r"\1", line) for line in CONFIG.read_text(encoding="utf-8").splitlines())


def test_example_config_loads_as_shipped() -> None:
    config = load_config(CONFIG, environ={})
    assert config.database_url == f"sqlite:///{STATE_DIR}/reminder-service.sqlite3"
    assert config.office_name == "Phòng Nội vụ huyện Sông Lam"
    assert config.calendar.directive == "cchc"
    assert not config.email.configured and not config.telegram.enabled
    assert config.watch_dir is None and config.outbox_jsonl is None
    assert config.escalation == Policy()


def test_example_config_uncommented_loads_and_shows_the_defaults(tmp_path: Path) -> None:
    text = _uncommented()
    data = tomllib.loads(text)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path, environ={})
    # Commented values that are defaults really are the defaults.
    email, telegram = EmailSettings(), TelegramSettings()
    assert (config.email.port, config.email.security, config.email.timeout_seconds) == (
        email.port, email.security, email.timeout_seconds)
    assert (config.telegram.base_url, config.telegram.chat_bot, config.telegram.webhook_listen,
            config.telegram.webhook_port) == (telegram.base_url, telegram.chat_bot, telegram.webhook_listen,
                                              telegram.webhook_port)
    # The commented ladder is the default ladder (docs/ARCHITECTURE.md, "The ladder"), stage by stage.
    shown = [(*astuple(s)[:6], s.template_name) for s in config.escalation.stages]
    assert shown == [(*astuple(s)[:6], s.template_name) for s in DEFAULT_STAGES]
    # What the service writes lies in its state directory, the one place the unit lets it write.
    assert str(config.watch_dir).startswith(STATE_DIR + "/") and str(config.outbox_jsonl).startswith(STATE_DIR + "/")
    assert data["database"]["url"].startswith(f"sqlite:///{STATE_DIR}/")


def test_example_config_shows_every_key_in_the_order_a_reader_needs() -> None:
    data = tomllib.loads(_uncommented())
    order = ["office", "database", "calendar", "email", "telegram", "web", "register", "delivery", "status",
             "escalation"]
    assert list(data) == order
    assert set(order) == set(_SECTIONS)
    for section, keys in _SECTIONS.items():
        missing = keys - set(data[section])
        assert not missing, f"[{section}] does not show {sorted(missing)}"
    shown_stage_keys = set().union(*(set(stage) for stage in data["escalation"]["stage"]))
    assert shown_stage_keys == STAGE_KEYS


def test_example_env_names_only_variables_the_service_reads() -> None:
    known = {CONFIG_ENV, DATABASE_URL_ENV}
    for name in (secrets.TELEGRAM_TOKEN, secrets.SMTP_PASSWORD, secrets.TELEGRAM_WEBHOOK_SECRET):
        known |= {name, f"{name}_FILE"}
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", ENV.read_text(encoding="utf-8"), re.M))
    assert named <= known, f"unknown variables: {sorted(named - known)}"
    assert {secrets.TELEGRAM_TOKEN, secrets.SMTP_PASSWORD, DATABASE_URL_ENV} <= named
    # Nothing is switched on in the example: every assignment is commented out.
    assert not re.search(r"^[A-Z][A-Z0-9_]+=", ENV.read_text(encoding="utf-8"), re.M)
