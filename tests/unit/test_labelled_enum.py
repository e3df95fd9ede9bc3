"""The labelled enum: members carry their French label and stay plain StrEnum members."""

from __future__ import annotations

import pickle

import pytest
from pydantic import BaseModel

from contacts.labelled import LabelledEnum
from contacts.model import ROLE_LABELS, Role
from crisis.accounts import Action, WebRole
from crisis.model import Authority, EngagementStatus
from playbooks.model import Section


class Colour(LabelledEnum):
    RED = "red", "rouge"
    DARK_BLUE = "dark_blue", "bleu foncé"


class Paint(BaseModel):
    colour: Colour


def test_a_member_is_its_value_and_carries_its_label() -> None:
    """A member equals, prints and looks up as its value, in order, and carries its label."""
    assert Colour.RED == "red"
    assert str(Colour.DARK_BLUE) == "dark_blue"
    assert f"{Colour.DARK_BLUE}" == "dark_blue"
    assert Colour.DARK_BLUE.value == "dark_blue"
    assert Colour.DARK_BLUE.label == "bleu foncé"
    assert Colour("dark_blue") is Colour.DARK_BLUE
    assert Colour["RED"] is Colour.RED
    assert list(Colour) == [Colour.RED, Colour.DARK_BLUE]
    assert pickle.loads(pickle.dumps(Colour.RED)) is Colour.RED


def test_a_label_is_not_a_value() -> None:
    """Looking a member up by its French label fails as for any unknown value."""
    with pytest.raises(ValueError, match="is not a valid Colour"):
        Colour("rouge")


def test_pydantic_reads_and_writes_the_value() -> None:
    """pydantic validates the value into the member and serialises the member as its value."""
    assert Paint.model_validate({"colour": "dark_blue"}).colour is Colour.DARK_BLUE
    assert Paint(colour=Colour.RED).model_dump_json() == '{"colour":"red"}'


def test_a_member_without_its_label_is_refused() -> None:
    """A member declared without its French label stops the class definition."""
    with pytest.raises(TypeError, match="needs its French label"):

        class Bare(LabelledEnum):
            ONLY = "only"


@pytest.mark.parametrize(
    ("member", "label"),
    [
        (Role.DIRECTION_ASTREINTE, "directeur de cabinet / sous-préfet d'astreinte"),
        (Role.MEDIA, "média"),
        (WebRole.OBSERVATEUR, "observateur / auditeur"),
        (Action.NOTE, "écrire dans la main courante"),
        (Authority.SOUS_PREFET, "sous-préfet"),
        (EngagementStatus.AT_RISK, "à risque"),
        (Section.EVOLUTION, "Évolution de l'événement"),
    ],
)
def test_the_product_enums_keep_their_french_labels(member: LabelledEnum, label: str) -> None:
    """The French labels of the product enums are those of the former label tables."""
    assert member.label == label


def test_the_role_labels_table_and_the_section_headings_follow_the_members() -> None:
    """ROLE_LABELS (the importer's aliases) and Section.heading read the members' labels."""
    assert {role: role.label for role in Role} == ROLE_LABELS
    assert ROLE_LABELS[Role.ADJOINT] == "adjoint au maire"
    assert [s.heading for s in Section] == [s.label for s in Section]
    assert Authority.PREFET.rank == 3
