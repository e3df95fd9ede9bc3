"""The provider sections of config.example.toml are valid once uncommented, and check-config
names what is missing (credentials, sections) without sending anything."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from crisis.bootstrap import provider_problems
from crisis.cli import app
from crisis.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
ENV = {
    "CRISIS_TWILIO_ACCOUNT_SID": "AC" + "a" * 32,
    "CRISIS_TWILIO_AUTH_TOKEN": "t" * 32,
    "CRISIS_SMTP_USERNAME": "crisis",
    "CRISIS_SMTP_PASSWORD": "secret-smtp",
    "CRISIS_X_API_KEY": "k",
    "CRISIS_X_API_SECRET": "s",
    "CRISIS_X_ACCESS_TOKEN": "t",
    "CRISIS_X_ACCESS_SECRET": "a",
    "CRISIS_FACEBOOK_PAGE_TOKEN": "EAAB" + "x" * 40,
    "CRISIS_APP_HMAC_SECRET": "h" * 40,
    "CRISIS_WEB_SECRET": "w" * 40,
}
REAL = {
    "voice": "twilio",
    "sms": "twilio",
    "email": "smtp",
    "x": "x",
    "facebook": "facebook",
    "website": "website",
    "app": "webhook",
    "standard": "twilio",
}


def _uncommented(tmp_path: Path) -> dict[str, object]:
    """The example with its provider sections uncommented and every channel on its provider."""
    lines = []
    section = re.compile(r"^# \[(twilio|smtp|x|facebook|website|app|standard|cip|accounts)\]$")
    for raw in EXAMPLE.read_text(encoding="utf-8").splitlines():
        setting = section.match(raw) or re.match(r"^# [a-z_]+ = ", raw)
        lines.append(raw[2:] if setting else raw)
    data = tomllib.loads("\n".join(lines))
    for name, provider in REAL.items():
        data["channels"][name]["provider"] = provider  # type: ignore[index]
    site = tmp_path / "site"
    site.mkdir()
    data["website"]["output_dir"] = str(site)  # type: ignore[index]
    data["website"].pop("state_dir", None)  # type: ignore[union-attr]
    data["smtp"].pop("ca_file", None)  # type: ignore[union-attr]
    data["twilio"].pop("messaging_service_sid", None)  # type: ignore[union-attr]
    data["website"].pop("cms_webhook_url", None)  # type: ignore[union-attr]
    return data


def test_example_provider_sections_are_valid_once_uncommented(tmp_path: Path) -> None:
    settings = Settings.model_validate(_uncommented(tmp_path))
    problems = provider_problems(settings, ENV)
    errors = [p for p in problems if "avertissement" not in p]
    assert errors == []
    assert set(settings.providers_in_use()) == set(REAL.values())
    assert settings.web.public_base_url is not None  # the links are in the example too


def test_missing_credentials_and_sections_are_named(tmp_path: Path) -> None:
    data = _uncommented(tmp_path)
    del data["facebook"]
    settings = Settings.model_validate(data)
    problems = " | ".join(provider_problems(settings, {}))
    for variable in (
        "CRISIS_TWILIO_ACCOUNT_SID",
        "CRISIS_X_API_KEY",
        "CRISIS_APP_HMAC_SECRET",
        "CRISIS_WEB_SECRET",
    ):
        assert variable in problems
    assert "[facebook]" in problems and "absente" in problems
    leaky = provider_problems(settings, {**ENV, "CRISIS_TWILIO_ACCOUNT_SID": "mauvais"})
    assert any("CRISIS_TWILIO_ACCOUNT_SID" in p for p in leaky)
    assert not any(secret in p for p in leaky for secret in ENV.values() if len(secret) > 8)


def test_a_provider_a_channel_cannot_use_is_refused() -> None:
    with pytest.raises(ValidationError, match="fournisseur « x » impossible"):
        Settings.model_validate({"channels": {"sms": {"provider": "x"}}})


def test_check_config_tells_the_author_when_an_sms_goes_ucs2() -> None:
    """An accent outside GSM-7 (« ê ») makes the SMS UCS-2: check-config says so and offers
    the folded GSM-7 text with its segment count."""
    result = CliRunner().invoke(app, ["check-config"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("SMS")]
    assert any("modèle alerte_elus" in line and "UCS-2" in line for line in lines)
    assert all("version GSM-7 proposée" in line for line in lines if "UCS-2" in line)
