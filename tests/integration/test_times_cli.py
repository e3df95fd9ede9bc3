"""Times through the real CLI: a T0 backdated across midnight reads in Paris time and UTC in the
main courante, `crisis status` and the reports; a journal sealed with the old wording stays
verified and reads right."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

import crisis.journal.wording
from crisis.bootstrap import build
from crisis.clock import FakeClock
from crisis.settings import load_settings
from tests.integration.helpers import activate

# The CLI in a subprocess, its wall clock set to the instant given first (the machine's clock
# cannot be chosen): everything else is the real command on a real SQLite file.
LAUNCH = (
    "import sys, datetime, crisis.clock as c; "
    "now = datetime.datetime.fromisoformat(sys.argv.pop(1)); "
    "c.SystemClock.now = lambda self: now; "
    "sys.argv[0] = 'crisis'; "
    "from crisis.cli import main; main()"
)
NOW = datetime(2026, 12, 1, 23, 20, tzinfo=UTC)  # 02/12 00:20 Paris time


def _config(tmp: Path) -> Path:
    config = tmp / "c.toml"
    config.write_text(
        f'data_dir = "{tmp}"\n[database]\nurl = "sqlite:///{tmp / "c.db"}"\n', encoding="utf-8"
    )
    return config


def _crisis(config: Path, *args: str, now: datetime = NOW) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-c", LAUNCH, now.isoformat(), *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "300", "PATH": "/usr/bin:/bin", "HOME": str(config.parent)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_t0_backdated_across_midnight_reads_in_paris_time_and_utc(tmp_path: Path):
    """At 00:20 Paris time, « --t0 23:50 » is the day before: entry 1, `crisis status` and the
    compliance report and REX give 23:50 Paris time (22:50 UTC), never 23:50 labelled UTC."""
    config = _config(tmp_path)
    activation = _crisis(
        config,
        *("activate", "--kind", "inondation", "--t0", "23:50", "--synergi", "SYN-NUIT"),
        *("--zone", "42218", "--by", "Claire Martin, agent d'astreinte", "--yes"),
    )
    crisis_id = "20261201-2350-inondation"
    out = _flat(activation.stdout)
    assert crisis_id in out and "01/12/2026 23:50 (heure de Paris)" in out

    journal = _flat(_crisis(config, "journal", crisis_id).stdout)
    assert "Heures : heure de Paris" in journal
    assert "temps 0 = 01/12/2026 23:50:00 (heure de Paris) — 22:50:00 UTC" in journal
    assert "23:50:00 UTC" not in journal
    # the on-call step fell due at T0: late, its deadline in both times, also across midnight
    assert "(échéance 01/12/2026 23:50:00 (heure de Paris) — 22:50:00 UTC)" in journal

    status = _flat(_crisis(config, "status", crisis_id).stdout)
    assert "T0 01/12 23:50 (heure de Paris), T0+30 min" in status

    reports = tmp_path / "rapports"
    _crisis(config, "report", "compliance", crisis_id, "--format", "md", "--output", str(reports))
    _crisis(config, "report", "rex", crisis_id, "--format", "md", "--output", str(reports))
    compliance_md = _flat((reports / f"conformite-{crisis_id}.md").read_text(encoding="utf-8"))
    assert "temps 0 le 01/12/2026 23:50:00 (heure de Paris) — 22:50:00 UTC" in compliance_md
    assert "depuis le temps 0 (01/12/2026 23:50:00 (heure de Paris) — 22:50:00 UTC)" in (
        compliance_md
    )
    rex_md = _flat((reports / f"REX-{crisis_id}.md").read_text(encoding="utf-8"))
    assert "Heure (heure de Paris)" in rex_md  # the annex of cited entries
    assert "(heure de Paris) — 22:50:00 UTC" in rex_md
    assert "23:50:00 UTC" not in rex_md and "23:50:00 UTC" not in compliance_md


def _old_hm(at: datetime, tz: object) -> str:
    """The wording of earlier versions: the instant's own clock time, labelled UTC."""
    return at.strftime("%d/%m/%Y %H:%M:%S UTC")


def test_a_journal_sealed_with_the_old_wording_is_verified_and_shown_right(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Entry 1 sealed by an earlier version (« 07:45:00 UTC » for 07:45 Paris time) is left as
    it is: `journal verify` passes, `crisis journal` shows 07:45 Paris time and 06:45 UTC, and
    `--texte-scelle` shows the sealed text."""
    config = _config(tmp_path)
    now = datetime(2026, 12, 2, 6, 50, tzinfo=UTC)
    app = build(load_settings(config), clock=FakeClock(now))
    t0 = datetime(2026, 12, 2, 7, 45).replace(tzinfo=app.orchestrator.config.timezone)
    with monkeypatch.context() as patch:
        patch.setattr(crisis.journal.wording, "_hm", _old_hm)
        crisis_id = activate(app, t0).crisis.id
    app.close()

    _crisis(config, "journal", "verify", crisis_id, now=now)
    shown = _flat(_crisis(config, "journal", crisis_id, now=now).stdout)
    assert "temps 0 = 02/12/2026 07:45:00 (heure de Paris) — 06:45:00 UTC" in shown
    sealed = _flat(_crisis(config, "journal", crisis_id, "--texte-scelle", now=now).stdout)
    assert "temps 0 = 02/12/2026 07:45:00 UTC" in sealed
    assert "texte scellé" in sealed
