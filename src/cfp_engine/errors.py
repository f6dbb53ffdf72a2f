"""The one exception hierarchy of cfp-engine.

Every error the engine raises on purpose derives from :class:`CfpError`; its message is
written for the user (what failed, where, expected against got, and a hint). Each class
also inherits the matching builtin, so ``except ValueError`` keeps working, and carries
the process exit code the command line uses. Errors pickle, so worker processes can
send them back.
"""

from __future__ import annotations


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
