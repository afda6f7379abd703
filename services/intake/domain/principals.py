"""Who is calling: a center, a parent office (its subtree, read-only) or an operator."""

from dataclasses import dataclass
from typing import Literal

PrincipalKind = Literal["center", "office", "operator"]


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    center_id: str | None = None
    office_path: str | None = None

    def can_read(self, center_id: str, center_office_path: str) -> bool:
        if self.kind == "operator":
            return True
        if self.kind == "center":
            return self.center_id == center_id
        assert self.office_path is not None
        return (center_office_path + "/").startswith(self.office_path.rstrip("/") + "/")
