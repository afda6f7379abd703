"""Who is calling: a center, a parent office (its subtree, read-only) or an operator."""

from dataclasses import dataclass
from typing import Literal

from services.intake.domain.completeness import in_scope

PrincipalKind = Literal["center", "office", "operator"]


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    center_id: str | None = None
    office_path: str | None = None
    token_id: str = ""
    label: str = ""

    def can_read(self, center_id: str, center_office_path: str) -> bool:
        if self.kind == "operator":
            return True
        if self.kind == "center":
            return self.center_id == center_id
        assert self.office_path is not None
        return in_scope(center_office_path, self.office_path)

    @property
    def scope(self) -> str | None:
        """The office subtree this caller may oversee (None for a center)."""
        return {"operator": "PMO", "office": self.office_path}.get(self.kind)

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        if self.kind == "center":
            return f"center:{self.center_id}"
        if self.kind == "office":
            return f"office:{self.office_path}"
        return f"operator:{self.label or self.token_id}"
