"""E-mail addresses as operators give them (the registry, the recipients file, the notifier's
settings), checked once, by email-validator, for what the notifier can deliver to.

An accepted address is one bare mailbox that goes on an SMTP command line and into a To
header unchanged, so the envelope recipient is always the address the message shows: no
display name, quotes, comments, IP literals, spaces, line breaks, ``<>,;``; no dot at either
end of a part or two in a row; a domain with a dot and not a special-use one (``.local``,
``.localhost``, ``.test``); at most 64 characters before the ``@`` (RFC 5321). Nothing is
looked up in DNS: a mailbox is proven by a delivery, not at import.

Internationalized addresses are accepted (Thai staff may have them): a Thai local part needs
an SMTP server with SMTPUTF8 (RFC 6531); a Thai domain with an ASCII local part is sent in
its ASCII (punycode) form and needs nothing special.
"""

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email


class NotAnEmailAddress(ValueError):
    """The message says which address and why, in a sentence."""


@dataclass(frozen=True)
class EmailAddress:
    normalized: str
    """As stored and shown: the domain in lower case and Unicode, the local part in NFC."""
    ascii: str | None
    """As sent without SMTPUTF8 (the domain in punycode); None when the local part is not
    ASCII, which only SMTPUTF8 can carry."""


def email_address(text: str) -> EmailAddress:
    """``text`` as one deliverable address; raises :class:`NotAnEmailAddress`."""
    try:
        valid = validate_email(
            text,
            allow_smtputf8=True,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            strict=True,
            check_deliverability=False,
        )
    except EmailNotValidError as error:
        raise NotAnEmailAddress(f"{text!r} is not an e-mail address: {error}") from None
    return EmailAddress(valid.normalized, valid.ascii_email)


def normalized_email(text: str) -> str:
    """``text`` in the form it is stored in; raises :class:`NotAnEmailAddress`."""
    return email_address(text).normalized
