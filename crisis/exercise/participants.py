"""The addresses an exercise may reach, gathered from its scenario and the directory.

Bootstrap turns them into the `channels.exercise.AllowList` of the exercise channels: the
participants' own numbers and e-mails, the extra addresses of the scenario, and the exercise
accounts of the public channels. Nothing here sends anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from channels.base import ChannelName
from contacts.model import Contact
from crisis.exercise.scenario import Scenario

__all__ = ["ParticipantAddresses", "participant_addresses"]


@dataclass(frozen=True)
class ParticipantAddresses:
    """Raw allow-list entries (normalised again by AllowList.of) and who they belong to."""

    contact_ids: tuple[str, ...]
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    public: dict[ChannelName, tuple[str, ...]] = field(default_factory=dict)


def participant_addresses(scenario: Scenario, contacts: Iterable[Contact]) -> ParticipantAddresses:
    """Numbers (mobile and landline) and e-mails of the scenario's participants and CIP agents,
    plus its extra addresses and exercise accounts. Unknown ids are skipped here: the scenario
    loader reports them when it is given the directory."""
    wanted = dict.fromkeys((*scenario.participants.contacts, *scenario.cip.agents))
    by_id = {c.id: c for c in contacts}
    found = [by_id[i] for i in wanted if i in by_id]
    phones = [n for c in found for n in (c.mobile, c.landline) if n]
    emails = [c.email for c in found if c.email]
    extra = scenario.participants
    public = {
        channel: accounts
        for channel, accounts in (
            (ChannelName.X, extra.x),
            (ChannelName.FACEBOOK, extra.facebook),
            (ChannelName.WEBSITE, extra.website),
            (ChannelName.APP, extra.app),
        )
        if accounts
    }
    return ParticipantAddresses(
        contact_ids=tuple(c.id for c in found),
        phones=tuple(dict.fromkeys((*phones, *extra.phones))),
        emails=tuple(dict.fromkeys((*emails, *extra.emails))),
        public=public,
    )
