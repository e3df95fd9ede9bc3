"""The settings and fixed values of the demo and of the exercise runs (simulated people who
answer, the demo's area, its actors and its CIP number), and how to call `crisis` again."""

from __future__ import annotations

import shutil
import sys
from datetime import timedelta
from pathlib import Path

from channels.base import ChannelName
from crisis.model import Actor, Interface
from crisis.settings import ChannelSettings, DatabaseSettings, Settings, SimulationSettings

DEMO_EPCI = "244200770"  # Saint-Étienne Métropole: the Furan and the Gier
DEMO_SEED = 1  # who answers and when: the same seed replays the same demo
DIRCAB = Actor(name="Directeur de cabinet (démo)", interface=Interface.CLI)
PREFET = Actor(name="Préfet (démo)", interface=Interface.CLI)
DEMO_CIP_NUMBER = "+33465714242"  # ARCEP fiction block 04 65 71
CIP_ORDER_AFTER = timedelta(minutes=32)  # after the playbook's proposal at T0+30


def demo_settings(data_dir: Path, seed: int = DEMO_SEED, base: Settings | None = None) -> Settings:
    """Simulated channels where some people answer, some never do.

    With `base` (the user's configuration), channels configured with a real provider keep it,
    with the provider sections: the demo then runs through the real client libraries (Twilio,
    X, SMTP...), for instance against the test mocks. The database is always the demo's own.
    """
    base = base or Settings()
    voice = SimulationSettings(latency_ms=300, ack_rate=0.6, ack_delay_s=(60, 900), seed=seed)
    sms = SimulationSettings(latency_ms=150, ack_rate=0.25, ack_delay_s=(120, 1200), seed=seed)
    quiet = SimulationSettings(latency_ms=200)
    channels = {
        name: cfg
        if cfg.provider != "simulated"
        else ChannelSettings(
            rate_per_second=cfg.rate_per_second,
            concurrency=cfg.concurrency,
            simulation={ChannelName.VOICE: voice, ChannelName.SMS: sms}.get(name, quiet),
        )
        for name, cfg in base.channels.items()
    }
    return base.model_copy(
        update={
            "database": DatabaseSettings(url=f"sqlite:///{data_dir / 'crisis.db'}"),
            "data_dir": data_dir,
            "channels": channels,
        }
    )


def exercise_settings(data_dir: Path, seed: int, base: Settings | None = None) -> Settings:
    """The exercise's own database in `data_dir`, its directory read from that database, and
    simulated people who answer (some of them, late or never: the same seed, the same run)."""
    settings = demo_settings(data_dir, seed, base)
    return settings.model_copy(
        update={"directory": settings.directory.model_copy(update={"source": "database"})}
    )


def crisis_command() -> str:
    """How the user can call `crisis` from their shell (the venv may not be on their PATH)."""
    if shutil.which("crisis") == str(Path(sys.executable).parent / "crisis"):
        beside = Path(sys.executable).parent / "crisis"
        try:
            return str(beside.relative_to(Path.cwd()))
        except ValueError:
            return str(beside)
    return "crisis"
