"""The channel catalog has one complete row per channel, and the settings read it."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel

from channels.base import CHANNEL_LABELS, PUBLIC_CHANNELS, SOCIAL_CHANNELS
from channels.base import ChannelName as FormerChannelName
from channels.catalog import (
    CATALOG,
    PROVIDER_SECTIONS,
    ChannelName,
    ChannelSpec,
    Measure,
    channels_for_means,
    spec,
)
from channels.preview import MEASURES, measure
from channels.simulated import SimulatedChannel
from contacts.model import Contact
from crisis.bootstrap.channels import PROVIDERS as BUILDERS
from crisis.bootstrap.channels import build_channel
from crisis.clock import FakeClock
from crisis.rendering import RenderedMessage
from crisis.settings import PublicSettings, Settings, SettingsError, load_settings

MEANS = ("médias", "internet", "téléphone")


def test_every_channel_has_exactly_one_row() -> None:
    """Each ChannelName is described by one catalog row named after it."""
    assert set(CATALOG) == set(ChannelName)
    assert all(row.name is name for name, row in CATALOG.items())


@pytest.mark.parametrize("name", list(ChannelName))
def test_row_is_complete(name: ChannelName) -> None:
    """A row has a French label, a positive default rate, Module 7 means and providers."""
    row = spec(name)
    assert isinstance(row, ChannelSpec)
    assert row.label.strip() and row.label == name.label
    assert row.default_rate > 0
    assert row.means and row.means <= set(MEANS)
    assert "simulated" in row.providers
    assert row.sections or row.providers == {"simulated"}
    assert row.max_length is None or row.max_length > 0


@pytest.mark.parametrize("name", list(ChannelName))
def test_body_is_a_previewable_rendering(name: ChannelName) -> None:
    """The body a channel sends is a text form of the rendered message the preview can show."""
    fields = {f.name for f in dataclasses.fields(RenderedMessage)}
    row = spec(name)
    assert row.body in fields
    rendered = RenderedMessage(
        subject="objet", short="court", voice="voix", long="long", html="<p>long</p>", sections=()
    )
    assert getattr(rendered, row.body)
    assert not row.rich or row.body == "long"  # the HTML rendering goes with the long text


@pytest.mark.parametrize("name", list(ChannelName))
def test_address_names_where_it_is_read(name: ChannelName) -> None:
    """A personal channel names contact fields; a public one names its [public] setting."""
    row = spec(name)
    assert row.address
    if row.public:
        assert row.address_kind == "account"
        assert all(field in PublicSettings.model_fields for field in row.address)
    else:
        assert row.address_kind in {"phone", "email"}
        assert all(field in Contact.model_fields for field in row.address)


def test_every_means_has_a_channel() -> None:
    """Each Module 7 means of informing the public can be met by some channel."""
    for means in MEANS:
        assert channels_for_means(means)  # type: ignore[arg-type]


def test_former_names_are_the_catalog_ones() -> None:
    """channels.base still exports ChannelName and the sets, now read from the catalog."""
    assert FormerChannelName is ChannelName
    assert {n for n in ChannelName if n.is_public} == PUBLIC_CHANNELS
    assert {ChannelName.X, ChannelName.FACEBOOK} == SOCIAL_CHANNELS
    assert {n: CATALOG[n].label for n in ChannelName} == CHANNEL_LABELS


def test_settings_take_default_rates_from_the_catalog() -> None:
    """Without a [channels] table, and in a block that omits the rate, the catalog rate holds."""
    default = Settings()
    for name in ChannelName:
        assert default.channels[name].rate_per_second == CATALOG[name].default_rate
    sms_only = Settings.model_validate({"channels": {"sms": {"burst": 3}}})
    assert (
        sms_only.channels[ChannelName.SMS].rate_per_second == CATALOG[ChannelName.SMS].default_rate
    )
    assert load_settings(None).channels == default.channels


# --- The catalog walk: what a new channel needs besides its module and its row ---------------

EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
REAL_ENV = {
    "CRISIS_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "CRISIS_TWILIO_AUTH_TOKEN": "jeton-de-test",
    "CRISIS_SMTP_USERNAME": "relais",
    "CRISIS_SMTP_PASSWORD": "secret",
    "CRISIS_X_API_KEY": "cle",
    "CRISIS_X_API_SECRET": "secret",
    "CRISIS_X_ACCESS_TOKEN": "jeton",
    "CRISIS_X_ACCESS_SECRET": "secret",
    "CRISIS_FACEBOOK_PAGE_TOKEN": "jeton-de-page",
    "CRISIS_WEBSITE_HMAC_SECRET": "s" * 32,
    "CRISIS_APP_HMAC_SECRET": "a" * 32,
}


def _example_with_real_providers(tmp_path: Path) -> str:
    """config.example.toml with every real provider's section uncommented, as an administrator
    does it, its server paths moved under tmp_path."""
    text = EXAMPLE.read_text(encoding="utf-8")
    head, marker, tail = text.partition("# --- Fournisseurs réels")
    assert marker, "config.example.toml has no real providers part"
    providers, exercise, rest = tail.partition("\n[exercise]")
    lines = []
    for line in providers.splitlines()[1:]:
        if not re.match(r'# (\[|[A-Za-z_"][^=]* = )', line):
            continue  # prose, and the commented-out alternatives ("# # ...")
        lines.append(line[2:].replace("/var/", f"{tmp_path.as_posix()}/var/"))
    return head + "\n".join(lines) + exercise + rest


@pytest.mark.parametrize("name", list(ChannelName))
def test_every_provider_of_a_channel_has_its_builder_row(name: ChannelName) -> None:
    """Each real provider a row names is one bootstrap builder row, with a settings model."""
    for provider in spec(name).providers - {"simulated"}:
        row = BUILDERS[provider]
        assert row.name == provider
        assert issubclass(row.model, BaseModel)


def test_every_builder_reads_a_section_the_settings_keep() -> None:
    """A builder row's table is one the catalog names, so the settings accept it unchanged."""
    for row in BUILDERS.values():
        assert row.section in PROVIDER_SECTIONS
        kept = Settings.model_validate({row.section: {"cle": "valeur"}})
        assert kept.section(row.section) == {"cle": "valeur"}


def test_every_builder_row_serves_a_channel() -> None:
    """No builder row is left without a channel of the catalog to build."""
    named = set().union(*(row.providers for row in CATALOG.values()))
    assert set(BUILDERS) == named - {"simulated"}


@pytest.mark.parametrize("name", list(ChannelName))
def test_every_channel_builds_from_the_config_example(name: ChannelName, tmp_path: Path) -> None:
    """With the example's sections uncommented, each channel builds on each of its providers:
    simulated, and every real one (credentials from the environment, nothing sent)."""
    example = tmp_path / "crisis.toml"
    example.write_text(_example_with_real_providers(tmp_path), encoding="utf-8")
    assert f"[channels.{name.value}]" in example.read_text(encoding="utf-8")
    for provider in sorted(spec(name).providers):
        settings = load_settings(example).model_copy(update={"data_dir": tmp_path / "data"})
        config = settings.channels[name].model_copy(update={"provider": provider})
        channel = build_channel(
            name,
            config,
            settings,
            FakeClock(datetime(2026, 12, 3, 3, 0, tzinfo=UTC)),
            lambda _event: None,
            REAL_ENV,
            lambda _key: None,
        )
        assert channel.name is name, provider
        assert isinstance(channel, SimulatedChannel) == (provider == "simulated"), provider


@pytest.mark.parametrize("name", list(ChannelName))
def test_every_channel_has_its_approval_preview(name: ChannelName) -> None:
    """The preview can measure the channel's body: its catalog measure has a French wording."""
    row = spec(name)
    assert row.measure in MEASURES
    worded = measure(name, "Crue de la Loire : évitez les berges.", "Alerte crue")
    assert worded.strip()
    assert set(MEASURES) == set(get_args(Measure))


def test_the_x_preview_warns_beyond_one_post() -> None:
    """X's measure counts weighted characters and says when the text becomes a thread."""
    assert measure(ChannelName.X, "a" * 280, "") == "280 caractères"
    assert "publié en fil" in measure(ChannelName.X, "a" * 281, "")
    assert measure(ChannelName.EMAIL, "corps", "Alerte crue") == "objet : Alerte crue"
    assert measure(ChannelName.SMS, "Crue", "").startswith("1 segment(s) — ")


def test_a_wrong_provider_table_is_named_as_written(tmp_path: Path) -> None:
    """The settings keep provider tables under `sections`, but an error names `[twilio]`."""
    config = tmp_path / "crisis.toml"
    config.write_text("twilio = 3\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="clé « twilio »"):
        load_settings(config)
