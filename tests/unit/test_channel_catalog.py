"""The channel catalog has one complete row per channel, and the settings read it."""

from __future__ import annotations

import dataclasses
from typing import get_args

import pytest

from channels.base import CHANNEL_LABELS, PUBLIC_CHANNELS, SOCIAL_CHANNELS
from channels.base import ChannelName as FormerChannelName
from channels.catalog import CATALOG, ChannelName, ChannelSpec, channels_for_means, spec
from contacts.model import Contact
from crisis.rendering import RenderedMessage
from crisis.settings import Provider, PublicSettings, Settings, load_settings

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
    assert row.providers <= set(get_args(Provider))
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
