"""The main job on the embedded default: a flood in the Loire, one hour in about a minute."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from crisis import compliance
from crisis.bootstrap import App, build
from crisis.cli.views import reach_table, render_verdicts
from crisis.clock import AcceleratedClock
from crisis.exercise.presets import (
    CIP_ORDER_AFTER,
    DEMO_CIP_NUMBER,
    DEMO_EPCI,
    DEMO_SEED,
    DIRCAB,
    PREFET,
    crisis_command,
    demo_settings,
)
from crisis.journal import verify
from crisis.model import Actor, Authority, ComplianceCheckpoint, Interface, StepStatus
from crisis.owned_dir import check_dir, fresh_dir, protected_dirs
from crisis.queries import events
from crisis.runtime import Claim, claim, lock_database, serve
from crisis.service import ActivationRequest
from crisis.settings import Settings, load_settings
from playbooks.model import EventKind


def run_demo(
    *,
    speed: float,
    data_dir: Path,
    console: Console,
    seed: int = DEMO_SEED,
    base: Settings | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run the demo; 0 when the journal verifies at the end.

    Raises ServiceRefused (French) when another process serves the demo's database, and
    FolderRefused (French) for a `data_dir` a previous demo did not create or that holds the
    configured data (crisis/owned_dir.py): its folder is then left as it is.
    """
    clock = AcceleratedClock(speed=speed)
    settings = demo_settings(data_dir, seed, base)
    configured = base if base is not None else load_settings(None, env or {})
    what = "dossier de la démonstration"
    check_dir(data_dir, what=what, protected=protected_dirs(configured))
    early = lock_database(settings.database.url, "demo", settings.prefecture.timezone)
    try:  # locked before the folder is emptied: a demo already running keeps its folder
        fresh_dir(
            data_dir,
            what=what,
            by="crisis demo",
            protected=protected_dirs(configured),
            keep=early.files,
        )
        early.check()  # its lock file went with the folder: taken again, or lost to a rival
        app = build(settings, clock=clock, env=env or {})
        claimed = claim(app, "demo", early=early)
    except BaseException:
        early.release()
        raise
    communes = [c.code_insee for c in app.directory().communes if c.epci == DEMO_EPCI]
    real = ", ".join(
        f"{provider} ({', '.join(c.value for c in chans)})"
        for provider, chans in settings.providers_in_use().items()
    )
    console.print(
        f"[bold]Démonstration[/bold] : crue du Furan et du Gier, {len(communes)} communes de "
        f"Saint-Étienne Métropole ; horloge ×{speed:g} ; "
        + (f"fournisseurs réels : {real} ; autres canaux simulés" if real else "canaux simulés")
        + f" ; base {data_dir / 'crisis.db'}"
    )
    activation = app.orchestrator.activate(
        ActivationRequest(
            kind=EventKind.INONDATION,
            t0=clock.now(),
            synergi_ref="SYNERGI-42-DEMO",
            communes=communes,
            recorded_by=Actor(name="Agent d'astreinte (démo)", interface=Interface.CLI),
        )
    )
    crisis_id = activation.crisis.id
    asyncio.run(_run(app, crisis_id, activation.crisis.t0, console, claimed))
    return _conclude(app, crisis_id, data_dir, console)


async def _run(app: App, crisis_id: str, t0: datetime, console: Console, claimed: Claim) -> None:
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, stop, claimed=claimed))
    try:
        with Live(console=console, refresh_per_second=4, transient=False) as live:
            while app.clock.now() < t0 + timedelta(minutes=61):
                await asyncio.sleep(0.25)
                _approve_when_ready(app, crisis_id)
                _order_cip_at(app, crisis_id, t0 + CIP_ORDER_AFTER)
                live.update(_screen(app, crisis_id, t0))
            await _drain(app, crisis_id, t0, live)
    finally:  # an error above still stops the service the way it stops normally (no hang)
        stop.set()
        await server


# Real seconds the demo waits, after its hour, for the messages still queued or with a provider
# (a slow provider or a loaded machine): the closing figures then count them.
DRAIN_S = 30.0
IN_FLIGHT = frozenset({"pending", "sending", "unknown"})


async def _drain(app: App, crisis_id: str, t0: datetime, live: Live) -> None:
    """Keep dispatching until no message is queued or in flight, for DRAIN_S at most."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DRAIN_S
    while loop.time() < deadline:
        counts = events.outbox_counts(app.store, crisis_id)
        if not any(n for (_channel, state), n in counts.items() if state in IN_FLIGHT):
            return
        await asyncio.sleep(0.25)
        live.update(_screen(app, crisis_id, t0))


def _order_cip_at(app: App, crisis_id: str, when: datetime) -> None:
    """The demo's préfet orders the CIP after the playbook's reminder (T0+30)."""
    if app.clock.now() < when:
        return
    if events.crisis(app.store, crisis_id).t0_cip is not None:
        return
    app.orchestrator.activate_cip(crisis_id, DEMO_CIP_NUMBER, PREFET, authority=Authority.PREFET)


def _approve_when_ready(app: App, crisis_id: str) -> None:
    """The demo's directeur de cabinet reads each draft for three minutes, then approves it."""
    now = app.clock.now()
    waiting = [s for s in events.steps(app.store, crisis_id) if s.status == StepStatus.APPROVAL]
    for step in waiting:
        if step.held_since and now - step.held_since >= timedelta(minutes=3):
            app.orchestrator.approve(crisis_id, step.step_id, DIRCAB)


def _screen(app: App, crisis_id: str, t0: datetime) -> Group:
    now = app.clock.now()
    entries = events.journal(app.store, crisis_id)
    counts = events.outbox_counts(app.store, crisis_id)
    minutes = (now - t0).total_seconds() / 60
    verdicts = compliance.judge(entries, now)
    reach = compliance.commune_reach(entries, now)
    head = Table.grid(padding=(0, 2))
    joint = sum(1 for r in reach if r.status == "joint")
    head.add_row(
        f"[bold]T0+{int(minutes):02d}:{int(minutes * 60) % 60:02d}[/bold]",
        f"communes jointes : {joint}/{len(reach)}",
        f"entrées de main courante : {len(entries)}",
    )
    table = Table(title="Engagements")
    table.add_column("engagement")
    table.add_column("état")
    table.add_column("détail")
    for v in verdicts:
        table.add_row(v.engagement, v.status.label, v.detail[:90])
    sent = Table(title="Envois")
    sent.add_column("canal")
    for state in ("pending", "sent", "delivered", "failed", "cancelled"):
        sent.add_column(state)
    for channel in sorted({c for c, _ in counts}):
        sent.add_row(
            channel,
            *(
                str(counts.get((channel, s), 0))
                for s in ("pending", "sent", "delivered", "failed", "cancelled")
            ),
        )
    return Group(head, table, sent)


def _conclude(app: App, crisis_id: str, data_dir: Path, console: Console) -> int:
    now = app.clock.now()
    entries = events.journal(app.store, crisis_id)
    stored = events.stored_journal(app.store, crisis_id)
    final = [
        (e.seq, e.fact)
        for e in entries
        if isinstance(e.fact, ComplianceCheckpoint) and e.fact.final
    ]
    console.rule("Bilan à T0+60")
    for seq, checkpoint in final:
        console.print(f"Verdict journalisé (entrée n° {seq}) :")
        render_verdicts(checkpoint.verdicts)
    reach = compliance.commune_reach(entries, now)
    crisis = events.crisis(app.store, crisis_id)
    console.print(reach_table(reach, crisis.commune_names, crisis.t0))
    non_joint = [r.code_insee for r in reach if r.status != "joint"]
    console.print(
        f"Communes jointes : {len(reach) - len(non_joint)}/{len(reach)} ; "
        f"non jointes : {', '.join(non_joint) or 'aucune'}"
    )
    problems = verify(crisis_id, stored.entries, stored.head_seq, stored.head_hash)
    app.close()
    config = data_dir / "demo.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{data_dir.resolve() / "crisis.db"}"\n', encoding="utf-8"
    )
    console.print(
        f"Main courante : {len(entries)} entrées, "
        + ("[green]chaînage intègre[/green]" if not problems else "[red]ALTÉRÉE[/red]")
    )
    command = crisis_command()
    console.print(f"Pour la relire : {command} journal {crisis_id} --config {config}")
    console.print(f"Pour vérifier son chaînage : {command} journal verify --config {config}")
    return 1 if problems or not final else 0
