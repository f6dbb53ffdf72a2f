"""The one exception hierarchy of cfp-engine.

Every error the engine raises on purpose derives from :class:`CfpError`; its message is
written for the user (what failed, where, expected against got, and a hint). Each class
also inherits the matching builtin, so ``except ValueError`` keeps working, and carries
the process exit code the command line uses. Errors pickle, so worker processes can
send them back.
"""

from __future__ import annotations

import re


class CfpError(Exception):
    """Base class; ``str(error)`` is the message shown to the user."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        return (type(self), (self.message,))


class SpecError(CfpError, ValueError):
    """A bad input file or field (spec, materials table, catalogue)."""


class UnitError(SpecError):
    """A quantity with a missing, unknown, ambiguous or wrongly dimensioned unit."""


class DataError(CfpError, LookupError):
    """An unknown material, activity, method or flow, or unusable data."""


class CalculationError(CfpError):
    """The calculation could not be done (singular matrix, empty inventory)."""


class VerificationError(CfpError):
    """A label did not verify."""

    exit_code = 1


class ExchangeError(CfpError, ConnectionError):
    """A PACT host could not be reached, refused the credentials or sent an unusable answer."""


class StoreError(CfpError, OSError):
    """The engine's store cannot be used: not writable, or a cache cannot be repaired."""


class CorruptCacheError(StoreError):
    """A saved score table is missing a file, truncated or changed since it was written.

    The engine catches it and rebuilds the table; it reaches the user only when the
    rebuild is impossible.
    """


def quote_input(text: object, *, limit: int = 80) -> str:
    """Quote a piece of user input for a message: one line, at most ``limit`` characters.

    ``repr`` escapes control characters and invisible format characters (the
    bidirectional overrides U+202A-U+202E and U+2066-U+2069, zero-width spaces), so a
    message can neither break the terminal line nor show text that reads differently
    from what the file holds. Only the first line is kept, and long text is cut with
    ``...`` (messages echo at most one line of the offending input).
    """
    value = str(text)
    lines = value.splitlines() or [""]
    first = lines[0]
    cut = len(lines) > 1 or len(first) > limit
    shown = repr(first[:limit])
    return f"{shown}..." if cut else shown


# C0/C1 controls, DEL, and the Unicode bidi embedding/override/isolate marks (Trojan
# Source, CVE-2021-42574), plus line and paragraph separators.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control and bidi characters written as ``\\xNN`` / ``\\uNNNN``."""
    if keep_newlines:
        return "\n".join(_UNSAFE.sub(_escape, line) for line in text.split("\n"))
    return _UNSAFE.sub(_escape, text)
