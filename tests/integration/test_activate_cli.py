"""`crisis activate`: the area is resolved and shown before T0 is recorded, then frozen."""

from __future__ import annotations

import os
import pwd
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

CRISIS = [sys.executable, "-m", "crisis"]


def _config(tmp: Path) -> Path:
    config = tmp / "c.toml"
    config.write_text(
        f'data_dir = "{tmp}"\n[database]\nurl = "sqlite:///{tmp / "c.db"}"\n', encoding="utf-8"
    )
    return config


def _activate(
    config: Path, zone: str, *extra: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *CRISIS,
            "activate",
            "--kind",
            "inondation",
            "--t0",
            (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
            "--synergi",
            "SYN-Z",
            "--zone",
            zone,
            "--by",
            "Agent",
            "--config",
            str(config),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
    )


def _crises(tmp: Path) -> list[tuple[str, str]]:
    if not (tmp / "c.db").exists():
        return []
    with sqlite3.connect(tmp / "c.db") as conn:
        return conn.execute("SELECT id, communes FROM crisis").fetchall()


def test_epci_and_codes_resolve_to_the_frozen_commune_list(tmp_path: Path):
    """An EPCI plus a code resolve to their communes, shown first, then frozen and journaled."""
    config = _config(tmp_path)
    result = _activate(config, "epci:244200770, 42187", "--yes")
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "54 communes" in out and "Saint-Étienne Métropole" in out and "42187 Roanne" in out
    [(crisis_id, communes)] = _crises(tmp_path)
    assert communes.count('"42') == 54 and '"42187"' in communes
    journal = subprocess.run(
        [*CRISIS, "journal", crisis_id, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "54 commune(s)" in journal.stdout


def test_without_confirmation_nothing_is_recorded(tmp_path: Path):
    """Without --yes and without a terminal to confirm, T0 is not recorded and the agent is told why."""
    config = _config(tmp_path)
    result = _activate(config, "arr:421")
    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert re.search(r"\d+ communes", result.stdout)  # the list was shown
    assert _crises(tmp_path) == []


def test_unknown_parts_of_the_area_are_all_named(tmp_path: Path):
    """Unknown codes, arrondissements and EPCI are listed together; nothing is recorded."""
    config = _config(tmp_path)
    result = _activate(config, "42218, 99999, arr:429, epci:200000000", "--yes")
    assert result.returncode == 1
    err = " ".join(result.stderr.split())
    assert "99999" in err and "429" in err and "200000000" in err
    assert _crises(tmp_path) == []


def _run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CRISIS, *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def _declare(config: Path, t0: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return _run(
        config,
        "activate",
        "--kind",
        "inondation",
        "--t0",
        t0,
        "--synergi",
        "42-2026-0113",
        "--zone",
        "42218",
        "--by",
        "Claire Martin, agent d'astreinte",
        *extra,
    )


def test_bare_time_typed_forty_minutes_ahead_asks_for_the_full_date(tmp_path: Path):
    """« 08:45 » typed at 08:05 would be yesterday (T0+1,400 min): refused, nothing recorded."""
    config = _config(tmp_path)
    ahead = datetime.now(ZoneInfo("Europe/Paris")) + timedelta(minutes=40)
    result = _declare(config, f"{ahead:%H:%M}", "--yes")
    assert result.returncode == 2, result.stdout + result.stderr
    err = " ".join(result.stderr.split())
    assert "date complète" in err and "il y a 23 h" in err
    assert "Traceback" not in result.stderr
    assert _crises(tmp_path) == []


def test_confirmation_shows_date_weekday_and_time_since_t0(tmp_path: Path):
    """The agent sees the T0's weekday, date and how long ago it was before it is recorded."""
    config = _config(tmp_path)
    before = datetime.now(ZoneInfo("Europe/Paris"))
    t0 = (before - timedelta(minutes=95)).replace(second=0, microsecond=0)  # as typed
    result = _declare(config, f"{t0:%Y-%m-%d %H:%M}", "--yes")
    after = datetime.now(ZoneInfo("Europe/Paris"))
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    weekday = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
    assert f"{weekday[t0.weekday()]} {t0:%d/%m/%Y %H:%M}" in out
    shown = re.search(r"il y a 1 h (\d+) min", out)
    assert shown, out
    # the command read its clock between `before` and `after` (a loaded machine is slow)
    earliest, latest = ((when - t0) // timedelta(minutes=1) - 60 for when in (before, after))
    assert earliest <= int(shown.group(1)) <= latest, out
    assert "(heure de Paris)" in out  # the zone, named as everywhere (crisis.timefmt)


def test_same_activation_twice_from_the_cli_is_one_event(tmp_path: Path):
    """Typed again (another key), the activation is found by its content and not duplicated."""
    config = _config(tmp_path)
    t0 = f"{datetime.now(ZoneInfo('Europe/Paris')) - timedelta(minutes=5):%Y-%m-%d %H:%M}"
    assert _declare(config, t0, "--yes").returncode == 0
    again = _declare(config, t0, "--yes", "--key", "autre-cle")
    assert again.returncode == 0, again.stderr
    assert "Activation déjà enregistrée" in again.stdout
    assert len(_crises(tmp_path)) == 1
    other = _declare(config, t0, "--yes", "--kind", "tempete")
    assert other.returncode == 1
    assert "déjà celle de l'événement" in " ".join(other.stderr.split())
    assert len(_crises(tmp_path)) == 1


def test_prefet_rectifies_a_wrong_t0_and_the_journal_and_status_follow(tmp_path: Path):
    """The directeur de cabinet rectifies T0 from the CLI: journaled with the reason, counted."""
    config = _config(tmp_path)
    login = pwd.getpwuid(os.getuid()).pw_name
    wrong = datetime.now(ZoneInfo("Europe/Paris")) - timedelta(minutes=50)
    right = wrong + timedelta(minutes=40)
    assert _declare(config, f"{wrong:%Y-%m-%d %H:%M}", "--yes").returncode == 0
    [(crisis_id, _)] = _crises(tmp_path)
    refused = _run(
        config, "rectifier-t0", crisis_id, "--t0", f"{right:%Y-%m-%d %H:%M}",
        "--motif", "heure mal saisie", "--by", "Agent", "--yes",
    )  # fmt: skip
    assert refused.returncode == 1
    assert "directeur de cabinet ou le préfet" in " ".join(refused.stderr.split())
    config.write_text(
        config.read_text(encoding="utf-8") + f'[accounts]\n"{login}" = "directeur_cabinet"\n',
        encoding="utf-8",
    )
    done = _run(
        config, "rectifier-t0", crisis_id, "--t0", f"{right:%Y-%m-%d %H:%M}",
        "--motif", "heure mal saisie", "--by", "Paul Durand, directeur de cabinet", "--yes",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    journal = _run(config, "journal", crisis_id)
    text = " ".join(journal.stdout.split())
    assert "Temps 0 rectifié" in text and "heure mal saisie" in text
    status = _run(config, "status", crisis_id)
    assert f"T0 {right:%d/%m %H:%M}" in status.stdout
    verify = _run(config, "journal", "verify", crisis_id)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_overlong_synergi_reference_is_a_bad_argument(tmp_path: Path):
    """A 5,000-character SYNERGI reference: French refusal, code 2, nothing recorded."""
    config = _config(tmp_path)
    t0 = f"{datetime.now(ZoneInfo('Europe/Paris')) - timedelta(minutes=5):%Y-%m-%d %H:%M}"
    result = _run(
        config, "activate", "--kind", "inondation", "--t0", t0, "--synergi", "4" * 5000,
        "--zone", "42218", "--by", "Agent", "--yes",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-500:]
    assert "référence SYNERGI" in result.stderr and "Traceback" not in result.stderr
    assert _crises(tmp_path) == []
