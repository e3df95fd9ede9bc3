"""A synthetic, deterministic directory for demonstrations, tests and benchmarks.

Every number is an ARCEP fiction number (it rings nobody), every e-mail is on a reserved
domain (RFC 2606 `.example`), every name is drawn at random from common French names.
"""

from __future__ import annotations

import gc
import random
import re
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from contacts.model import Commune, Contact, Directory, Role, RosterSlot, TrainingRecord
from contacts.phone import BLOCK_SIZE, FICTION_FIXED_PREFIXES, fiction_number

FIRST_NAMES = (
    "Marie", "Jean", "Nathalie", "Pierre", "Isabelle", "Michel", "Sylvie", "Philippe",
    "Catherine", "Alain", "Françoise", "Patrick", "Christine", "Nicolas", "Valérie", "Christophe",
    "Sandrine", "Laurent", "Sophie", "Éric", "Céline", "Stéphane", "Véronique", "David",
    "Anne", "Frédéric", "Martine", "Olivier", "Nadia", "Thierry", "Julie", "Sébastien",
    "Aurélie", "Julien", "Camille", "Pascal", "Émilie", "Vincent", "Claire", "Thomas",
    "Hélène", "Bruno", "Caroline", "Jérôme", "Laure", "Antoine", "Élodie", "Mathieu",
    "Karima", "Mehdi", "Léa", "Hugo", "Chloé", "Lucas", "Manon", "Yannick",
    "Agnès", "Gilles", "Brigitte", "Didier",
)  # fmt: skip
SURNAMES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois",
    "Moreau", "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David",
    "Bertrand", "Morel", "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine",
    "Rousseau", "Vincent", "Muller", "Lefèvre", "Faure", "André", "Mercier", "Blanc",
    "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
    "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu",
    "Gautier", "Masson", "Marchand", "Duval", "Denis", "Dumont", "Marie", "Lemaire",
    "Noël", "Meyer", "Dufour", "Meunier",
)  # fmt: skip
# Outlets as seen in the Loire, all marked fictitious: the demo must never look like real data.
MEDIA_OUTLETS = (
    "Le Progrès (fictif)",
    "France Bleu Saint-Étienne Loire (fictif)",
    "France 3 Auvergne-Rhône-Alpes (fictif)",
    "L'Essor (fictif)",
    "Le Pays Roannais (fictif)",
    "TL7 Télévision Loire (fictif)",
    "Activ Radio (fictif)",
    "Agence de presse régionale (fictif)",
)
PREFECTURE_DOMAIN = "prefecture-loire.example"
PARIS = ZoneInfo("Europe/Paris")
ROSTER_DAYS = 14  # the demo rosters run from yesterday 08:00 to 08:00 on the 14th day ahead
ROSTER_CHANGEOVER = time(8, 0)  # astreinte handed over at 08:00, local time
# Landlines of the demo start in the 04 65 71 block (the Loire's zone), then wrap around.
_LANDLINE_START = FICTION_FIXED_PREFIXES.index("+3346571") * BLOCK_SIZE
_LANDLINE_COUNT = BLOCK_SIZE * len(FICTION_FIXED_PREFIXES)


def slug(text: str) -> str:
    """ASCII, lower-case, hyphenated: "Saint-Étienne" -> "saint-etienne"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "commune"


class _Names:
    """Random "Prénom Nom", without repeating one while the pool lasts."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def draw(self) -> str:
        name = ""
        for _ in range(20):
            name = f"{self._rng.choice(FIRST_NAMES)} {self._rng.choice(SURNAMES)}"
            if name not in self._used:
                break
        self._used.add(name)
        return name


def _mobiles() -> Iterator[str]:
    for index in range(BLOCK_SIZE):
        yield fiction_number(index, mobile=True)
    raise ValueError("plus de numéros de fiction mobiles disponibles (10 000 au plus)")


def _landlines() -> Iterator[str]:
    for i in range(_LANDLINE_COUNT):
        yield fiction_number((_LANDLINE_START + i) % _LANDLINE_COUNT, mobile=False)
    raise ValueError("plus de numéros de fiction fixes disponibles (50 000 au plus)")


def _email(name: str, domain: str) -> str:
    return f"{slug(name).replace('-', '.')}@{domain}"


@dataclass
class _Pools:
    """What a demo directory draws from, always in the same order: names, mobiles, landlines."""

    names: _Names
    mobiles: Iterator[str] = field(default_factory=_mobiles)
    landlines: Iterator[str] = field(default_factory=_landlines)

    def staff(self, contact_id: str, role: Role, *, trained: bool = True) -> Contact:
        """A member of the prefecture's staff: mobile and e-mail at the prefecture."""
        name = self.names.draw()
        return Contact(
            id=contact_id,
            name=name,
            role=role,
            mobile=next(self.mobiles),
            email=_email(name, PREFECTURE_DOMAIN),
            trained=trained,
        )


def _mairie_domain(commune: Commune, taken: set[str]) -> str:
    """The mairie's e-mail domain, made unique with the INSEE code for homonymous communes."""
    domain = f"mairie-{slug(commune.nom)}.example"
    if domain in taken:
        domain = f"mairie-{slug(commune.nom)}-{slug(commune.code_insee)}.example"
    taken.add(domain)
    return domain


def _officials(commune: Commune, domain: str, pools: _Pools) -> list[Contact]:
    """The maire, two adjoints and the secrétariat de mairie of one commune."""
    code = commune.code_insee
    contacts = [
        Contact(
            id=f"maire-{code}",
            name=pools.names.draw(),
            role=Role.MAIRE,
            commune=code,
            mobile=next(pools.mobiles),
            landline=next(pools.landlines),
            email=f"maire@{domain}",
        )
    ]
    for rank in (1, 2):
        contacts.append(
            Contact(
                id=f"adjoint{rank}-{code}",
                name=pools.names.draw(),
                role=Role.ADJOINT,
                commune=code,
                rank=rank,
                mobile=next(pools.mobiles),
                email=f"adjoint{rank}@{domain}",
            )
        )
    contacts.append(
        Contact(
            id=f"secretariat-{code}",
            name=f"Secrétariat de mairie ({commune.nom})",
            role=Role.SECRETARIAT,
            commune=code,
            landline=next(pools.landlines),
            email=f"secretariat@{domain}",
        )
    )
    return contacts


def _cell_press_and_media(pools: _Pools) -> list[Contact]:
    """The crisis cell, the vivier presse, the media contacts and the CIP agents."""
    staff = pools.staff
    contacts = [
        staff("cell-dircab", Role.DIRECTION_ASTREINTE),
        staff("cell-sousprefet", Role.DIRECTION_ASTREINTE),
    ]
    contacts.extend(staff(f"cell-astreinte-{i}", Role.AGENT_ASTREINTE) for i in (1, 2))
    contacts.extend(staff(f"cell-com-{i}", Role.CHARGE_COMMUNICATION) for i in (1, 2, 3))
    contacts.extend(
        staff(f"cell-rappel-{i}", Role.AGENT_RAPPEL, trained=i <= 4) for i in range(1, 7)
    )
    contacts.extend(staff(f"presse-{i}", Role.PRESSE) for i in (1, 2, 3))
    for i, outlet in enumerate(MEDIA_OUTLETS, start=1):
        journalist = pools.names.draw()
        contacts.append(
            Contact(
                id=f"media-{i}",
                name=f"{journalist} — {outlet}",
                role=Role.MEDIA,
                landline=next(pools.landlines),
                email=_email(journalist, f"{slug(outlet.removesuffix(' (fictif)'))}.example"),
            )
        )
    contacts.extend(staff(f"cip-{i}", Role.AGENT_CIP) for i in (1, 2, 3, 4))
    return contacts


def demo_directory(
    communes: Sequence[Commune],
    *,
    seed: int = 42,
    now: datetime | None = None,
    tz: tzinfo = PARIS,
) -> Directory:
    """A synthetic directory: the officials of each commune, the cell, the press, the media.

    Per commune: a maire (mobile, direct line at the mairie, e-mail), two adjoints (rank 1, 2;
    mobile, e-mail) and the secrétariat de mairie (the mairie's switchboard, e-mail). The cell:
    directeur de cabinet and sous-préfet on call, 2 agents d'astreinte, 3 chargés de
    communication, 6 agents of the liste de rappel (4 trained, 2 not), 3 of the vivier presse,
    8 media contacts, 4 CIP agents. Deterministic for a seed; every number is unique.

    With `now` (the clock's time; the local date in `tz` is what counts), training records and
    rosters are added, see `demo_training` and `demo_rosters`: deterministic for the seed and
    that date. Without it, none (the directory as imports without them would leave it).
    """
    pools = _Pools(_Names(random.Random(seed)))  # noqa: S311 -- synthetic names, not security
    contacts: list[Contact] = []
    domains: set[str] = set()
    for commune in communes:
        contacts.extend(_officials(commune, _mairie_domain(commune, domains), pools))
    contacts.extend(_cell_press_and_media(pools))
    directory = Directory(communes=tuple(communes), contacts=tuple(contacts))
    if now is None:
        return directory
    today = now.astimezone(tz).date()
    return directory.model_copy(
        update={
            "training": demo_training(directory, today, seed=seed),
            "rosters": demo_rosters(today, tz),
        }
    )


def demo_training(
    directory: Directory, today: date, *, seed: int = 42
) -> tuple[TrainingRecord, ...]:
    """Training records as of `today`: an initial training for every staff member flagged
    trained (so the untrained recall agents have none), a refresher and an exercise with CIP
    activation for the CIP agents, except that cip-2's refresher is more than a year old,
    cip-3 never did an exercise with the CIP activated, and cip-4's refresher expires within
    60 days."""
    rng = random.Random(f"training-{seed}")  # noqa: S311 -- synthetic dates, not security

    def ago(low: int, high: int) -> date:
        return today - timedelta(days=rng.randint(low, high))

    records: list[TrainingRecord] = []
    for contact in directory.contacts:
        if contact.role in {Role.MAIRE, Role.ADJOINT, Role.SECRETARIAT, Role.MEDIA}:
            continue
        if not contact.trained:
            continue
        records.append(
            TrainingRecord(
                contact_id=contact.id,
                kind="formation_initiale",
                on=ago(500, 1800),
                duration_days=1.0,
                label="Communication d'urgence (module 7)",
            )
        )
        if contact.role != Role.AGENT_CIP:
            continue
        refresher = {"cip-2": ago(400, 520), "cip-4": ago(310, 350)}.get(contact.id)
        records.append(
            TrainingRecord(
                contact_id=contact.id,
                kind="recyclage",
                on=refresher or ago(20, 250),
                duration_days=0.5,
                label="Recyclage annuel CIP",
            )
        )
        records.append(
            TrainingRecord(
                contact_id=contact.id,
                kind="exercice",
                on=ago(30, 330),
                duration_days=1.0,
                with_cip_activation=contact.id != "cip-3",
                label="Exercice départemental (fictif)",
            )
        )
    return tuple(sorted(records, key=lambda r: (r.contact_id, r.on, r.kind)))


def demo_rosters(today: date, tz: tzinfo = PARIS) -> tuple[RosterSlot, ...]:
    """Daily slots (08:00 to 08:00 local time) from yesterday to ROSTER_DAYS ahead.

    Direction: the directeur de cabinet and the sous-préfet take turns, each the other's
    deputy; likewise the two agents d'astreinte. CIP: two agents a day, cip-1 with cip-2 then
    cip-3 with cip-4, so that every day has an agent the 50.2 rules set aside.
    """
    slots: list[RosterSlot] = []
    for offset in range(-1, ROSTER_DAYS):
        day = today + timedelta(days=offset)
        starts = datetime.combine(day, ROSTER_CHANGEOVER, tzinfo=tz)
        ends = datetime.combine(day + timedelta(days=1), ROSTER_CHANGEOVER, tzinfo=tz)
        even = offset % 2 == 0
        pairs = (
            (Role.DIRECTION_ASTREINTE, ("cell-dircab", "cell-sousprefet")),
            (Role.AGENT_ASTREINTE, ("cell-astreinte-1", "cell-astreinte-2")),
        )
        for role, (first, second) in pairs:
            holder, deputy = (first, second) if even else (second, first)
            slots.append(
                RosterSlot(role=role, starts=starts, ends=ends, contact_id=holder, deputy_id=deputy)
            )
        for agent in ("cip-1", "cip-2") if even else ("cip-3", "cip-4"):
            slots.append(
                RosterSlot(role=Role.AGENT_CIP, starts=starts, ends=ends, contact_id=agent)
            )
    return tuple(slots)


def directory_for_benchmark(n_communes: int) -> Directory:
    """n synthetic communes ("B00001"…, not INSEE codes), one maire each, fiction numbers.

    The first 10 000 maires get a fiction mobile; the next ones (up to 50 000 more) a fiction
    landline, since ARCEP reserves only one mobile block. More than 60 000: ValueError.
    Built in one validation pass with the garbage collector paused: 50 000 communes well
    under a second.
    """
    limit = BLOCK_SIZE + _LANDLINE_COUNT
    if not 0 <= n_communes <= limit:
        raise ValueError(f"nombre de communes hors plage (0 à {limit} numéros de fiction)")
    communes: list[dict[str, object]] = []
    contacts: list[dict[str, object]] = []
    with gc_paused():
        for i in range(n_communes):
            code = f"B{i + 1:05d}"
            communes.append({"code_insee": code, "nom": f"Commune {code}"})
            contact: dict[str, object] = {
                "id": f"maire-{code}",
                "name": f"Maire de {code}",
                "role": Role.MAIRE,
                "commune": code,
                "email": f"maire@mairie-{code.lower()}.example",
            }
            if i < BLOCK_SIZE:
                contact["mobile"] = fiction_number(i, mobile=True)
            else:
                contact["landline"] = fiction_number(i - BLOCK_SIZE, mobile=False)
            contacts.append(contact)
        return Directory.model_validate({"communes": communes, "contacts": contacts})


@contextmanager
def gc_paused() -> Iterator[None]:
    """Bulk allocation of many small objects: no collection passes meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
