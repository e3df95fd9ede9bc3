"""What a person may order: authorities, lowest first, and their French labels."""

from __future__ import annotations

from contacts.labelled import LabelledEnum


class Authority(LabelledEnum):
    """What a person may order (their account's authority), lowest first."""

    AGENT = "agent", "agent"
    SOUS_PREFET = "sous_prefet", "sous-préfet"
    DIRECTEUR_CABINET = "directeur_cabinet", "directeur de cabinet"
    PREFET = "prefet", "préfet"

    @property
    def rank(self) -> int:
        """Order of authority: higher may order more."""
        return list(Authority).index(self)


CIP_AUTHORITY = Authority.DIRECTEUR_CABINET  # the préfet's delegation: dircab or above (50)
