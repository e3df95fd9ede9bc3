"""Public post text: X's weighted length, thread splitting, update stamps."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from channels.publication import (
    Stamp,
    https_problem,
    parse_stamp,
    reference,
    same_publication,
    stamp_at,
    stamped,
    thread,
    weighted_length,
)

PARIS = ZoneInfo("Europe/Paris")
WINTER = datetime(2026, 11, 23, 1, 45, tzinfo=UTC)  # 02:45 in Paris (UTC+1)
STAMP = Stamp("02:45", "K7QD")

SENTENCE = "Crue de la Seine : le préfet demande l'évacuation des quais bas de Melun."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("é" * 280, 280),  # French accents count 1
        ("àâçèéêëîïôûùüÿœæ«»’", 19),  # œ, æ, guillemets, apostrophe: all weight 1
        ("漢字", 4),  # CJK counts 2
        ("🚨", 2),
        ("👨‍👩‍👧‍👦", 2),  # a ZWJ family is one emoji
        ("🇫🇷", 2),  # a flag (two regional indicators) is one emoji
        ("👍🏽", 2),  # skin tone modifier belongs to the emoji
        ("…", 2),  # U+2026 is outside twitter-text's light ranges
    ],
)
def test_weighted_length_follows_twitter_text_weights(text: str, expected: int) -> None:
    """Characters weigh as twitter-text v3 says (1 for Latin, 2 for CJK and each emoji)."""
    assert weighted_length(text) == expected


def test_every_url_counts_23_whatever_its_length() -> None:
    """A long or short http(s) link weighs 23 (t.co), punctuation after it counts apart."""
    long_url = "https://www.seine-et-marne.gouv.fr/Actions-de-l-Etat/Securite/crue-2026?x=1"
    assert weighted_length(long_url) == 23
    assert weighted_length("http://a.fr") == 23
    assert weighted_length(f"Voir {long_url}.") == 5 + 23 + 1


def test_bare_domain_is_never_counted_below_what_x_may_count() -> None:
    """A link without protocol may count 23 for X: it is counted max(23, its length)."""
    assert weighted_length("interieur.gouv.fr") == 23
    longer = "www.seine-et-marne.gouv.fr/crue-de-la-seine-2026"
    assert weighted_length(longer) == len(longer)


def test_short_body_is_one_stamped_post_without_numbering() -> None:
    """A body that fits with its stamp is a single post ending with the stamp."""
    posts = thread(SENTENCE, STAMP)
    assert posts == [SENTENCE + " (màj 02:45 · réf. K7QD)"]


def test_long_body_becomes_numbered_parts_within_280() -> None:
    """Each part is at most 280 weighted characters, numbered k/n and stamped."""
    body = " ".join([SENTENCE] * 12) + " Infos : https://www.example.fr/crue"
    posts = thread(body, STAMP)
    assert len(posts) > 1
    for index, post in enumerate(posts, 1):
        assert weighted_length(post) <= 280
        assert post.startswith(f"{index}/{len(posts)} ")
        assert post.endswith(STAMP.text)
    assert "https://www.example.fr/crue" in posts[-1]  # the link is kept whole


def test_thread_cuts_on_sentences_and_loses_nothing() -> None:
    """Parts end on sentence boundaries and together say exactly the body."""
    sentences = [f"Phrase numéro {n} de l'alerte, à lire attentivement." for n in range(20)]
    body = " ".join(sentences)
    posts = thread(body, STAMP)
    chunks = [post.split(" ", 1)[1].removesuffix(STAMP.text) for post in posts]
    assert all(chunk.endswith(".") for chunk in chunks)
    assert " ".join(chunks) == body


def test_sentence_longer_than_a_post_is_cut_on_words() -> None:
    """A sentence without a full stop for 600 characters is cut between words."""
    body = " ".join(f"mot{n}" for n in range(150))
    posts = thread(body, STAMP)
    chunks = [post.split(" ", 1)[1].removesuffix(STAMP.text) for post in posts]
    assert " ".join(chunks) == body
    assert all(weighted_length(post) <= 280 for post in posts)


def test_paragraph_breaks_are_kept_inside_a_part() -> None:
    """Two short paragraphs that end up in one part keep their blank line."""
    body = "\n\n".join([SENTENCE] * 5)
    posts = thread(body, STAMP)
    assert "\n\n" in posts[0]


def test_numbering_widens_past_nine_parts() -> None:
    """With ten parts or more, every part still fits once numbered "10/12"."""
    body = " ".join([SENTENCE] * 40)
    posts = thread(body, STAMP)
    assert len(posts) >= 10
    assert posts[9].startswith(f"10/{len(posts)} ")
    assert all(weighted_length(post) <= 280 for post in posts)


def test_stamp_is_local_time_of_the_prefecture() -> None:
    """The stamp shows Paris time in winter (UTC+1) and summer (UTC+2)."""
    assert stamp_at(WINTER, PARIS, "k").time == "02:45"
    assert stamp_at(datetime(2026, 7, 14, 0, 45, tzinfo=UTC), PARIS, "k").time == "02:45"


def test_stamp_is_deterministic_and_unique_per_message() -> None:
    """Same message and minute: same text; two messages in the same minute: different texts."""
    first = stamped(SENTENCE, stamp_at(WINTER, PARIS, "crise-1:etape-3:public:x:v1"))
    again = stamped(SENTENCE, stamp_at(WINTER, PARIS, "crise-1:etape-3:public:x:v1"))
    other = stamped(SENTENCE, stamp_at(WINTER, PARIS, "crise-1:etape-4:public:x:v1"))
    assert first == again
    assert first != other
    assert reference("crise-1:etape-3:public:x:v1") == reference("crise-1:etape-3:public:x:v1")


def test_parse_stamp_reads_back_what_stamped_wrote() -> None:
    """The minute and reference of a published text can be recovered after a restart."""
    text = stamped(SENTENCE, STAMP)
    assert parse_stamp(text) == STAMP
    assert parse_stamp(SENTENCE) is None


def test_same_publication_ignores_minute_but_not_reference() -> None:
    """A post found online matches its message whatever minute it was first tried."""
    expected = stamped(SENTENCE, STAMP)
    assert same_publication(stamped(SENTENCE, Stamp("03:10", "K7QD")), expected)
    assert not same_publication(stamped(SENTENCE, Stamp("02:45", "AAAA")), expected)
    assert not same_publication(stamped(SENTENCE + " Fin.", STAMP), expected)


def test_same_publication_survives_x_rewriting_links_and_escaping() -> None:
    """X returns links as t.co and escapes &: the post still matches."""
    expected = stamped("Routes & ponts : https://www.example.fr/crue", STAMP)
    published = "Routes &amp; ponts : https://t.co/AbC123 (màj 02:45 · réf. K7QD)"
    assert same_publication(published, expected)


def test_https_is_required_except_on_loopback() -> None:
    """A provider URL in clear text is a configuration problem unless it is a local test."""
    assert https_problem("http://graph.example.org", "[facebook] graph_base_url")
    assert https_problem("http://127.0.0.1:4010", "[x] api_base_url") == []
    assert https_problem("http://localhost:4010", "[x] api_base_url") == []
    assert https_problem("https://api.x.com", "[x] api_base_url") == []
