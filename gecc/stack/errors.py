"""The one error the launcher raises on purpose."""


class StackError(RuntimeError):
    """A component could not be prepared, started, checked or stopped.

    The message says what failed and what to do about it; the CLI prints it as is.
    """
