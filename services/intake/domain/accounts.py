"""People's accounts and what each may act as.

An account is an e-mail address. Its memberships say what it may act as once signed in: one
center (every contact address of the registry is one), the subtree of a parent office, or
the operators. A session acts as exactly one of them, its **scope**, written
``center:GECC-0001``, ``office:PMO/BMA`` or ``operators``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from services.intake.domain.centers import code_problem, office_path_problem
from services.intake.domain.principals import Role
from shared.email_addresses import normalized_email

ROLES: tuple[Role, ...] = get_args(Role)
Source = Literal["registry", "import"]
OPERATORS = "operators"


class NotAScope(ValueError):
    """The message says why, in a sentence."""


@dataclass(frozen=True)
class Scope:
    role: Role
    center_id: str | None = None
    office_path: str | None = None

    def __str__(self) -> str:
        if self.role == "center":
            return f"center:{self.center_id}"
        if self.role == "office":
            return f"office:{self.office_path}"
        return OPERATORS

    @classmethod
    def of(cls, role: Role, subject: str) -> "Scope":
        """A role and what it is for: a center code, an office path, or ``operators``."""
        if role == "center":
            problem = code_problem(subject)
            if problem is None:
                return cls("center", center_id=subject)
        elif role == "office":
            problem = office_path_problem(subject)
            if problem is None:
                return cls("office", office_path=subject)
        else:
            if subject == OPERATORS:
                return cls("operator")
            problem = f"{subject!r} is not {OPERATORS!r}, the only scope of an operator"
        raise NotAScope(problem)

    @classmethod
    def parse(cls, text: str) -> "Scope":
        """``center:<code>``, ``office:<path>`` or ``operators``."""
        if text == OPERATORS:
            return cls("operator")
        prefix, _, subject = text.partition(":")
        if prefix not in ("center", "office"):
            raise NotAScope(f"{text!r} is not a scope: center:<code>, office:<path> or {OPERATORS}")
        return cls.of("center" if prefix == "center" else "office", subject)


@dataclass(frozen=True)
class Membership:
    """One thing an account may act as, with the names people know it by."""

    scope: Scope
    center_name_th: str = ""
    center_name_en: str = ""

    @property
    def label_th(self) -> str:
        if self.scope.role == "center":
            return f"{self.center_name_th or self.scope.center_id} ({self.scope.center_id})"
        if self.scope.role == "office":
            return f"หน่วยงานต้นสังกัด {self.scope.office_path}"
        return "เจ้าหน้าที่ผู้ดูแลระบบ (OPS/PMO)"

    @property
    def label_en(self) -> str:
        if self.scope.role == "center":
            return f"{self.center_name_en or self.scope.center_id} ({self.scope.center_id})"
        if self.scope.role == "office":
            return f"Parent office {self.scope.office_path}"
        return "OPS/PMO operators"


class ScopeNotChosen(Exception):
    """The account may act as more than one thing, and which one was not said (or what was
    said is not one of them)."""

    def __init__(self, memberships: Sequence[Membership]) -> None:
        super().__init__(", ".join(str(m.scope) for m in memberships))
        self.memberships = list(memberships)


def choose(memberships: Sequence[Membership], wanted: Scope | None) -> Membership:
    """The membership a session acts as: the one asked for, or the only one."""
    if not memberships:
        raise ValueError("an account without memberships cannot sign in")
    if wanted is None and len(memberships) == 1:
        return memberships[0]
    for membership in memberships:
        if membership.scope == wanted:
            return membership
    raise ScopeNotChosen(memberships)


def account_email(address: str) -> str:
    """The address as accounts know it: normalized (shared/email_addresses.py) and in lower
    case. Mail systems do not tell case apart in practice and people type their address
    either way, so ``Saraban@x.go.th`` and ``saraban@x.go.th`` are one account. Raises
    NotAnEmailAddress."""
    return normalized_email(address).lower()
