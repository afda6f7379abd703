"""How a channel says a delivery failed: worth retrying, or not."""


class DeliveryError(Exception):
    """A message could not be delivered. ``temporary``: try again later (backoff);
    otherwise retrying cannot help and the message goes to the dead letters at once."""

    temporary: bool = True

    def __init__(
        self,
        channel: str,
        detail: str,
        *,
        code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{channel}: {detail}")
        self.channel = channel
        self.detail = detail
        self.code = code
        """The SMTP reply code or HTTP status, when the other side answered."""
        self.retry_after = retry_after
        """Seconds the other side asked us to wait (HTTP ``Retry-After``), if any."""


class TemporaryDeliveryError(DeliveryError):
    temporary = True


class PermanentDeliveryError(DeliveryError):
    temporary = False
