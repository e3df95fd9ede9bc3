"""What a person may order: authorities, lowest first, and their French labels."""

from __future__ import annotations

from enum import StrEnum


class Authority(StrEnum):
    """What a person may order (their account's authority), lowest first."""

    AGENT = "agent"
    SOUS_PREFET = "sous_prefet"
    DIRECTEUR_CABINET = "directeur_cabinet"
    PREFET = "prefet"

    @property
    def rank(self) -> int:
        """Order of authority: higher may order more."""
        return list(Authority).index(self)

    @property
    def label(self) -> str:
        """French label."""
        return AUTHORITY_LABELS[self]


AUTHORITY_LABELS = {
    Authority.AGENT: "agent",
    Authority.SOUS_PREFET: "sous-préfet",
    Authority.DIRECTEUR_CABINET: "directeur de cabinet",
    Authority.PREFET: "préfet",
}
CIP_AUTHORITY = Authority.DIRECTEUR_CABINET  # the préfet's delegation: dircab or above (50)
