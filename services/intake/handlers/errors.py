"""What a use case raises when the request cannot be done as asked."""


class NotFound(Exception):
    pass


class InvalidRequest(ValueError):
    """Input that is well-formed but wrong here; ``errors`` are (field, reason) pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in errors))
        self.errors = errors
