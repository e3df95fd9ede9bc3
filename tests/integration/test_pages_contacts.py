"""The dashboard's directory page: masked numbers, rosters, training, and the CSV import
(all or nothing unless keep-valid, CSRF, directeur de cabinet or préfet only)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from contacts.demo import demo_directory
from contacts.geography import load_communes
from contacts.model import Directory, Role
from contacts.phone import mask
from crisis.accounts import WebRole
from crisis.bootstrap import App, build
from crisis.clock import FakeClock
from crisis.settings import Settings
from tests.integration.test_pages_security import _csrf, _logged_in, _user, _web

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
COMMUNES = [c for c in load_communes() if c.code_insee in {"42218", "42187"}]
FULL_NUMBER = re.compile(r"\+33\s?\d(?:[\s.]?\d{2}){4}")  # any complete French number


def csv_bytes(*lines: str) -> bytes:
    return "\r\n".join(lines).encode("utf-8") + b"\r\n"


@pytest.fixture
def db_app(settings: Settings, clock: FakeClock) -> Iterator[App]:
    """The application with its directory in the database, seeded with the demo (fiction)."""
    directory = settings.directory.model_copy(update={"source": "database"})
    application = build(settings.model_copy(update={"directory": directory}), clock=clock)
    with application.store.transaction() as tx:
        tx.replace_directory(demo_directory(COMMUNES, now=NOW))
    yield application
    application.close()


@pytest.fixture
def seeded(db_app: App) -> Directory:
    return stored(db_app)


@pytest.fixture
async def http(db_app: App) -> AsyncIterator[httpx.AsyncClient]:
    async with _web(db_app) as client:
        yield client


def stored(app: App) -> Directory:
    with app.store.transaction() as tx:
        return tx.load_directory()


async def post_csv(
    http: httpx.AsyncClient, csrf: str | None, kind: str, content: bytes, **flags: str
) -> httpx.Response:
    data = {"kind": kind, **flags}
    if csrf is not None:
        data["csrf"] = csrf
    files = {"file": (f"{kind}.csv", content, "text/csv")}
    return await http.post("/annuaire/import", data=data, files=files)


BAD_TRAINING = csv_bytes(
    "Identifiant;Type;Date;Durée;Avec activation CIP",
    "cip-3;exercice;15/09/2026;1;oui",
    "cip-3;exercice;31/09/2026;1;oui",
)
ROSTER = csv_bytes(
    "Rôle;Début;Fin;Titulaire;Suppléant",
    "CIP;10/12/2026 08:00;11/12/2026 08:00;cip-1;",
    "CIP;10/12/2026 08:00;11/12/2026 08:00;cip-99;",
)


async def test_the_page_shows_masked_numbers_rosters_and_training(
    db_app: App, http: httpx.AsyncClient, seeded: Directory
) -> None:
    """An observateur sees every contact with masked numbers only, the rosters, the training
    table with the CIP warnings, and no import form."""
    _user(db_app, "audit", WebRole.OBSERVATEUR, "Auditeur")
    await _logged_in(http, "audit")
    page = await http.get("/annuaire")
    assert page.status_code == 200
    html = page.text
    assert f"{len(COMMUNES)} commune(s), {len(seeded.contacts)} contact(s)" in html
    numbers = [n for c in seeded.contacts for n in (c.mobile, c.landline) if n]
    assert numbers
    for number in numbers:
        assert number not in html and number[1:] not in html
    assert FULL_NUMBER.search(html) is None
    shown = next(c for c in seeded.contacts if c.mobile)
    assert shown.mobile is not None and mask(shown.mobile) in html
    for c in seeded.contacts:
        if c.email:
            assert c.email not in html
    assert "Astreintes des 7 prochains jours" in html
    assert "Tableau des agents de la CIP" in html
    for c in seeded.contacts:
        if c.role == Role.AGENT_CIP:
            assert f"<td>{c.id}</td><td>agent CIP</td>" in html
    assert 'id="form-import"' not in html
    assert "réservé au directeur de cabinet" in html


async def test_contacts_filter_by_commune_and_role(
    db_app: App, http: httpx.AsyncClient, seeded: Directory
) -> None:
    _user(db_app, "audit", WebRole.OBSERVATEUR, "Auditeur")
    await _logged_in(http, "audit")
    page = await http.get("/annuaire", params={"commune": "42218", "role": "maire"})
    [maire] = [c for c in seeded.contacts if c.role == Role.MAIRE and c.commune == "42218"]
    [other] = [c for c in seeded.contacts if c.role == Role.MAIRE and c.commune == "42187"]
    table = page.text.split('id="table-contacts"')[1].split("</table>")[0]
    assert f"<td>{maire.id}</td>" in table
    assert f"<td>{other.id}</td>" not in table
    assert "1 contact(s)" in page.text


async def test_import_with_a_rejected_line_changes_nothing_and_shows_why(
    db_app: App, http: httpx.AsyncClient, seeded: Directory
) -> None:
    _user(db_app, "dircab", WebRole.DIRECTEUR_CABINET, "Directeur de cabinet")
    csrf = await _logged_in(http, "dircab")
    page = await http.get("/annuaire")
    assert 'id="form-import"' in page.text and 'enctype="multipart/form-data"' in page.text
    response = await post_csv(http, _csrf(page.text), "formations", BAD_TRAINING)
    assert response.status_code == 422
    report = response.text.split('id="rapport-import"')[1].split("</table>")[0]
    assert "rejeté" in report and "31/09/2026" in report
    assert "Rien n&#39;a été enregistré" in response.text
    assert stored(db_app) == seeded
    assert csrf == _csrf(response.text)


async def test_keep_valid_imports_the_valid_lines(
    db_app: App, http: httpx.AsyncClient, seeded: Directory
) -> None:
    """The dry run stores nothing; keep-valid stores the valid slot and ignores the other."""
    _user(db_app, "prefete", WebRole.PREFET, "Préfète")
    csrf = await _logged_in(http, "prefete")
    dry = await post_csv(http, csrf, "astreintes", ROSTER, keep_valid="1", dry_run="1")
    assert dry.status_code == 200
    assert "Essai à blanc : rien n&#39;a été enregistré." in dry.text
    assert stored(db_app) == seeded
    response = await post_csv(http, csrf, "astreintes", ROSTER, keep_valid="1")
    assert response.status_code == 200, response.text[-2000:]
    assert "Annuaire enregistré dans la base. 1 ligne rejetée ignorée" in response.text
    assert "cip-99" in response.text
    [new] = set(stored(db_app).rosters) - set(seeded.rosters)
    assert new.contact_id == "cip-1"
    assert new.starts == datetime(2026, 12, 10, 7, 0, tzinfo=UTC)  # 08:00 in Paris


async def test_import_needs_the_session_csrf_token(
    db_app: App, http: httpx.AsyncClient, seeded: Directory
) -> None:
    _user(db_app, "prefete", WebRole.PREFET, "Préfète")
    csrf = await _logged_in(http, "prefete")
    good = csv_bytes("Identifiant;Type;Date", "cip-1;recyclage;01/10/2026")
    for token in (None, "faux-jeton", csrf[:-2]):
        response = await post_csv(http, token, "formations", good)
        assert response.status_code == 403, token
        assert "jeton de formulaire absent ou invalide" in response.text
    assert stored(db_app) == seeded
    assert (await post_csv(http, csrf, "formations", good)).status_code == 200
    assert stored(db_app) != seeded


async def test_only_directeur_de_cabinet_or_prefet_may_import(
    db_app: App, http: httpx.AsyncClient, seeded: Directory
) -> None:
    """Agent, chargé de communication and observateur: 403 naming the role; anonymous: login."""
    good = csv_bytes("Identifiant;Type;Date", "cip-1;recyclage;01/10/2026")
    anonymous = await post_csv(http, "x", "formations", good)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/connexion"
    for login, role in [
        ("agent1", WebRole.AGENT),
        ("com1", WebRole.CHARGE_COMMUNICATION),
        ("audit", WebRole.OBSERVATEUR),
    ]:
        _user(db_app, login, role, login)
        http.cookies.clear()
        csrf = await _logged_in(http, login)
        response = await post_csv(http, csrf, "formations", good)
        assert response.status_code == 403, login
        assert f"le rôle {role.label} ne permet pas d" in response.text.replace("&#39;", "'")
    assert stored(db_app) == seeded


async def test_without_the_database_directory_the_import_is_explained(app: App) -> None:
    """Demo directory: the page still shows it, with a French note instead of the form."""
    _user(app, "prefete", WebRole.PREFET, "Préfète")
    async with _web(app) as http:
        csrf = await _logged_in(http, "prefete")
        page = await http.get("/annuaire")
        assert page.status_code == 200
        assert 'id="import-indisponible"' in page.text and 'id="form-import"' not in page.text
        response = await post_csv(
            http, csrf, "formations", csv_bytes("Identifiant;Type;Date", "x;recyclage;01/10/2026")
        )
        assert response.status_code == 409
        assert "source = &#34;database&#34;" in response.text
