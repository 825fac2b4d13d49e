"""The exceptions that stop a run. Row-level problems are data (``models.Issue``), not exceptions."""

from __future__ import annotations


class BillingError(Exception):
    """Base of every error a user can cause; the CLI prints its message, never a traceback."""

    exit_code = 1


class InputError(BillingError):
    """A whole input file or table cannot be used: unreadable, empty, or missing a required column."""


class UsageError(BillingError):
    """A bad parameter: unknown method, malformed period, buyer_reference as the system default."""

    exit_code = 2


class CurrencyMismatch(BillingError):
    """Two amounts in different currencies were combined."""


class RegisterError(BillingError):
    """The invoice register cannot be opened, is locked, corrupt, or refuses an operation."""


class OutputError(BillingError):
    """Writing the outputs failed; nothing was left half-written."""
