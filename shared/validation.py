"""What pydantic refused, told in one line: each problem with the path of its field."""

from pydantic import ValidationError


def validation_problems(error: ValidationError, whole: str, most: int | None = None) -> str:
    """``field.path: reason; ...``, the first ``most`` of them; a problem of no one field is
    about ``whole`` (the file, the body)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in issue['loc']) or whole}: {issue['msg']}"
        for issue in error.errors()[:most]
    )
