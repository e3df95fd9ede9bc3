"""The exercise guard: nothing outside the allow-list reaches the inner channel, and every
message it lets through is framed "EXERCICE EXERCICE EXERCICE" on every channel."""

from __future__ import annotations

import pytest

from channels.base import (
    Channel,
    ChannelConfigError,
    ChannelName,
    DeliveryFailed,
    OutgoingMessage,
    Receipt,
    Recipient,
)
from channels.exercise import FRAME, HTML_FRAME, SUBJECT_MAX, AllowList, ExerciseChannel

PARTICIPANT_MOBILE = "+33639981201"
OUTSIDER_MOBILE = "+33639981299"
PARTICIPANT_EMAIL = "Claire.Dupont@prefecture-loire.example"
OUTSIDER_EMAIL = "maire@mairie-firminy.example"
EXERCISE_ACCOUNTS = {
    ChannelName.X: ["@Pref42_Exercice"],
    ChannelName.FACEBOOK: ["prefecture-loire-exercice"],
    ChannelName.WEBSITE: ["https://exercice.loire.example.fr/"],
    ChannelName.APP: ["app-exercice"],
    ChannelName.STANDARD: ["standard-exercice"],
}
ALLOWED_ADDRESS = {
    ChannelName.VOICE: "06 39 98 12 01",  # national form: normalised before comparing
    ChannelName.SMS: PARTICIPANT_MOBILE,
    ChannelName.EMAIL: "claire.dupont@PREFECTURE-LOIRE.example",  # case does not matter
    ChannelName.X: "pref42_exercice",
    ChannelName.FACEBOOK: "prefecture-loire-exercice",
    ChannelName.WEBSITE: "https://exercice.loire.example.fr",
    ChannelName.APP: "app-exercice",
    ChannelName.STANDARD: "standard-exercice",
}
REFUSED_ADDRESS = {
    ChannelName.VOICE: OUTSIDER_MOBILE,
    ChannelName.SMS: "+33199001234",
    ChannelName.EMAIL: OUTSIDER_EMAIL,
    ChannelName.X: "@Prefet42",  # the prefecture's real account: never in an exercise
    ChannelName.FACEBOOK: "prefecture.loire",
    ChannelName.WEBSITE: "https://www.loire.gouv.fr",
    ChannelName.APP: "loire-alerte-officielle",
    ChannelName.STANDARD: "standard-prefecture",
}


class RecordingChannel:
    """A fake provider that records every message it is given."""

    def __init__(self, name: ChannelName) -> None:
        self.name = name
        self.sent: list[OutgoingMessage] = []
        self.looked_up: list[OutgoingMessage] = []

    async def send(self, message: OutgoingMessage) -> Receipt:
        self.sent.append(message)
        return Receipt(provider_id=f"REC-{len(self.sent)}")

    async def lookup(self, message: OutgoingMessage) -> Receipt | None:
        self.looked_up.append(message)
        return Receipt(provider_id="REC-found")


def allow_list() -> AllowList:
    return AllowList.of(
        phones=["+33 6 39 98 12 01"],
        emails=[PARTICIPANT_EMAIL],
        public=EXERCISE_ACCOUNTS,
    )


def message(channel: ChannelName, address: str, **fields: object) -> OutgoingMessage:
    data: dict[str, object] = {
        "idempotency_key": f"crisis-1:step:{channel.value}:{address}",
        "channel": channel,
        "recipient": Recipient(contact_id="cell-com-1", address=address),
        "subject": "Crue du Furan : point de situation",
        "body": "La RD 1082 est coupée entre Saint-Étienne et Rochetaillée.",
    }
    data.update(fields)
    return OutgoingMessage.model_validate(data)


def test_exercise_channel_implements_the_channel_protocol():
    """The wrapper is a Channel with the inner channel's name."""
    guard = ExerciseChannel(RecordingChannel(ChannelName.SMS), allow_list())
    assert isinstance(guard, Channel)
    assert guard.name == ChannelName.SMS


@pytest.mark.parametrize("channel", list(ChannelName))
async def test_refused_recipient_never_reaches_the_inner_channel(channel: ChannelName):
    """An address outside the allow-list raises a final French refusal and nothing is sent."""
    inner = RecordingChannel(channel)
    guard = ExerciseChannel(inner, allow_list())
    address = REFUSED_ADDRESS[channel]
    with pytest.raises(DeliveryFailed) as caught:
        await guard.send(message(channel, address))
    assert inner.sent == []
    assert caught.value.retryable is False
    assert caught.value.ambiguous is False
    assert caught.value.public_reason.startswith("exercice : ")
    assert address not in caught.value.public_reason
    assert address.removeprefix("@") not in caught.value.public_reason


@pytest.mark.parametrize("channel", list(ChannelName))
async def test_allowed_recipient_gets_a_framed_message_on_every_channel(channel: ChannelName):
    """Body, subject and HTML start and end with the EXERCICE mark; the message is flagged."""
    inner = RecordingChannel(channel)
    guard = ExerciseChannel(inner, allow_list())
    receipt = await guard.send(
        message(channel, ALLOWED_ADDRESS[channel], html="<p>La RD 1082 est coupée.</p>")
    )
    assert receipt.provider_id == "REC-1"
    [sent] = inner.sent
    for text in (sent.body, sent.subject):
        assert text.startswith(FRAME) and text.endswith(FRAME)
    assert "La RD 1082 est coupée" in sent.body
    assert sent.html is not None
    assert sent.html.startswith(HTML_FRAME) and sent.html.endswith(HTML_FRAME)
    assert sent.exercise is True


async def test_message_without_html_stays_without_html_and_empty_subject_is_the_mark():
    """No HTML is invented; an empty subject becomes the mark itself."""
    inner = RecordingChannel(ChannelName.SMS)
    await ExerciseChannel(inner, allow_list()).send(
        message(ChannelName.SMS, PARTICIPANT_MOBILE, subject="")
    )
    [sent] = inner.sent
    assert sent.html is None
    assert sent.subject == FRAME


async def test_framing_is_not_doubled_when_the_message_is_already_framed():
    """A resend of a framed message is framed once."""
    inner = RecordingChannel(ChannelName.SMS)
    guard = ExerciseChannel(inner, allow_list())
    await guard.send(message(ChannelName.SMS, PARTICIPANT_MOBILE))
    await guard.send(inner.sent[0])
    assert inner.sent[1].body == inner.sent[0].body
    assert inner.sent[1].body.count(FRAME) == 2


async def test_long_subject_keeps_its_closing_mark_within_the_email_limit():
    """The e-mail channel cuts subjects at 120 characters: the closing mark must survive."""
    inner = RecordingChannel(ChannelName.EMAIL)
    await ExerciseChannel(inner, allow_list()).send(
        message(ChannelName.EMAIL, PARTICIPANT_EMAIL, subject="Crue " * 60)
    )
    subject = inner.sent[0].subject
    assert len(subject) <= SUBJECT_MAX
    assert subject.startswith(FRAME) and subject.endswith(FRAME)


async def test_a_public_channel_is_refused_when_the_allow_list_names_no_account():
    """Public channels publish to everybody: without an exercise account they are blocked."""
    inner = RecordingChannel(ChannelName.X)
    guard = ExerciseChannel(inner, AllowList.of(phones=[PARTICIPANT_MOBILE]))
    with pytest.raises(DeliveryFailed) as caught:
        await guard.send(message(ChannelName.X, "pref42_exercice"))
    assert "X (Twitter)" in caught.value.public_reason
    assert inner.sent == []


async def test_an_account_allowed_on_one_public_channel_is_refused_on_another():
    """The allow-list is per channel: the X exercise account does not open Facebook."""
    inner = RecordingChannel(ChannelName.FACEBOOK)
    guard = ExerciseChannel(inner, allow_list())
    with pytest.raises(DeliveryFailed):
        await guard.send(message(ChannelName.FACEBOOK, "pref42_exercice"))
    assert inner.sent == []


async def test_a_participant_number_is_not_an_email_address_and_vice_versa():
    """Phones are only allowed on voice/SMS, e-mails only on e-mail."""
    inner = RecordingChannel(ChannelName.EMAIL)
    guard = ExerciseChannel(inner, allow_list())
    with pytest.raises(DeliveryFailed):
        await guard.send(message(ChannelName.EMAIL, PARTICIPANT_MOBILE))
    sms = RecordingChannel(ChannelName.SMS)
    with pytest.raises(DeliveryFailed):
        await ExerciseChannel(sms, allow_list()).send(message(ChannelName.SMS, PARTICIPANT_EMAIL))
    assert inner.sent == [] and sms.sent == []


async def test_a_message_for_another_channel_is_refused():
    """A message addressed on e-mail handed to the SMS guard is not sent (no cross-channel leak)."""
    inner = RecordingChannel(ChannelName.SMS)
    guard = ExerciseChannel(inner, allow_list())
    with pytest.raises(DeliveryFailed):
        await guard.send(message(ChannelName.EMAIL, PARTICIPANT_EMAIL))
    assert inner.sent == []


async def test_unreadable_number_is_refused_not_crashed():
    """A garbage address on a phone channel is a refusal like any other."""
    inner = RecordingChannel(ChannelName.VOICE)
    with pytest.raises(DeliveryFailed):
        await ExerciseChannel(inner, allow_list()).send(message(ChannelName.VOICE, "n/a"))
    assert inner.sent == []


async def test_lookup_delegates_the_framed_message_for_participants():
    """Reconciliation asks the inner channel with the message as it was sent."""
    inner = RecordingChannel(ChannelName.SMS)
    guard = ExerciseChannel(inner, allow_list())
    receipt = await guard.lookup(message(ChannelName.SMS, PARTICIPANT_MOBILE))
    assert receipt is not None and receipt.provider_id == "REC-found"
    [asked] = inner.looked_up
    assert asked.body.startswith(FRAME)


async def test_lookup_for_a_refused_recipient_is_certainly_not_sent():
    """The guard never sent to an outsider, so lookup answers None without asking the provider."""
    inner = RecordingChannel(ChannelName.SMS)
    receipt = await ExerciseChannel(inner, allow_list()).lookup(
        message(ChannelName.SMS, OUTSIDER_MOBILE)
    )
    assert receipt is None
    assert inner.looked_up == []


def test_allow_list_rejects_bad_entries_without_echoing_them():
    """Building the list fails in French, naming the entry's position, not its value."""
    with pytest.raises(ChannelConfigError) as caught:
        AllowList.of(phones=[PARTICIPANT_MOBILE, "12"])
    assert "n° 2" in str(caught.value) and "12" not in str(caught.value).replace("n° 2", "")
    with pytest.raises(ChannelConfigError, match="adresse électronique"):
        AllowList.of(emails=["pas-une-adresse"])
    with pytest.raises(ChannelConfigError, match="canal public"):
        AllowList.of(public={ChannelName.SMS: [PARTICIPANT_MOBILE]})


def test_empty_allow_list_allows_nothing():
    """The default list refuses every channel."""
    empty = AllowList()
    assert not any(empty.allows(c, ALLOWED_ADDRESS[c]) for c in ChannelName)
