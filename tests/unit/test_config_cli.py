"""`crisis check-config`: a broken playbook or config names the file and the key; nothing starts."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from crisis.settings import SettingsError, load_settings
from playbooks.loader import default_library_dir, default_templates_dir

CRISIS = [sys.executable, "-m", "crisis"]


def _library(tmp: Path) -> tuple[Path, Path]:
    library, templates = tmp / "library", tmp / "templates"
    shutil.copytree(default_library_dir(), library)
    shutil.copytree(default_templates_dir(), templates)
    return library, templates


def _check(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CRISIS, "check-config", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_shipped_configuration_is_valid(tmp_path: Path):
    """The example configuration and the shipped library pass check-config."""
    result = _check(Path(__file__).parents[2] / "config.example.toml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_broken_playbook_fails_check_config_naming_file_step_and_key(tmp_path: Path):
    """A typo in a step fails check-config with the file, the step and the key."""
    library, templates = _library(tmp_path)
    path = library / "inondation.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('offset = "PT15M"', 'ofset = "PT15M"', 1),
        encoding="utf-8",
    )
    config = tmp_path / "c.toml"
    config.write_text(
        f'[playbooks]\nlibrary_dir = "{library}"\ntemplates_dir = "{templates}"\n', encoding="utf-8"
    )
    result = _check(config)
    assert result.returncode == 1
    out = " ".join((result.stdout + result.stderr).split())
    assert "inondation.toml" in out and "communique_presse" in out and "ofset" in out


def test_broken_playbook_stops_every_command(tmp_path: Path):
    """With an invalid playbook nothing starts: activate refuses before recording anything."""
    library, templates = _library(tmp_path)
    (library / "tempete.toml").write_text('kind = "tempete"\n[[steps]]\n', encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "x.db"}"\n'
        f'[playbooks]\nlibrary_dir = "{library}"\ntemplates_dir = "{templates}"\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            *CRISIS,
            "activate",
            "--kind",
            "inondation",
            "--t0",
            "00:00",
            "--synergi",
            "S",
            "--communes",
            "42218",
            "--by",
            "x",
            "--yes",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "tempete.toml" in result.stdout + result.stderr
    assert not (tmp_path / "x.db").exists()


def test_bad_config_key_is_named_with_the_file():
    """An unknown key or a bad value in the TOML is reported with its dotted location."""
    with pytest.raises(SettingsError) as err:
        load_settings(_write("[channels.voice]\nrate_per_secnd = 3\n"))
    assert "channels.voice.rate_per_secnd" in str(err.value) and "clé inconnue" in str(err.value)
    with pytest.raises(SettingsError) as err:
        load_settings(_write("[channels.sms]\nrate_per_second = -1\n"))
    assert "channels.sms.rate_per_second" in str(err.value)


def test_bad_config_fails_check_config_with_exit_code(tmp_path: Path):
    """check-config exits non-zero on an invalid configuration file."""
    config = tmp_path / "c.toml"
    config.write_text('[prefecture]\ntimezone = "Europe/Lutece"\n', encoding="utf-8")
    result = _check(config)
    assert result.returncode != 0 and "prefecture.timezone" in result.stderr


def test_environment_overrides_the_database_url():
    """CRISIS_DATABASE_URL wins over the file (credentials stay out of the TOML)."""
    settings = load_settings(None, {"CRISIS_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1/db"})
    assert settings.database.url == "postgresql+psycopg://u@127.0.0.1/db"


def _write(text: str) -> Path:
    handle = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False, encoding="utf-8")
    handle.write(text)
    handle.close()
    return Path(handle.name)


def test_channel_block_keeps_the_channels_own_default_rate():
    """Setting only the concurrency of SMS keeps the SMS rate (10/s), not a generic one."""
    settings = load_settings(_write("[channels.sms]\nconcurrency = 3\n"))
    assert settings.channels["sms"].rate_per_second == 10.0
    assert settings.channels["sms"].concurrency == 3


def test_template_with_unknown_variable_fails_check_config(tmp_path: Path):
    """check-config renders every template with sample crises: an unknown variable is named."""
    library, templates = _library(tmp_path)
    path = templates / "alerte_elus.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("{{ prefecture }}", "{{ prefectur }}", 1), encoding="utf-8")
    assert "{{ prefectur }}" in path.read_text(encoding="utf-8")
    config = tmp_path / "c.toml"
    config.write_text(
        f'[playbooks]\nlibrary_dir = "{library}"\ntemplates_dir = "{templates}"\n', encoding="utf-8"
    )
    result = _check(config)
    assert result.returncode == 1
    out = " ".join(result.stderr.split())
    assert "alerte_elus" in out and "prefectur" in out
