"""The exceptions that stop a run: one base class, the exit code each one gives, the value in the message."""

from __future__ import annotations

import pytest

from billing_lib.domain import errors
from billing_lib.domain.errors import (
    BillingError,
    CurrencyMismatch,
    InputError,
    OutputError,
    RegisterError,
    UsageError,
)
from billing_lib.domain.period import Period


def test_every_error_is_a_billing_error_with_exit_code_1_or_2() -> None:
    classes = [
        value for value in vars(errors).values() if isinstance(value, type) and issubclass(value, Exception)
    ]
    assert set(classes) == {
        BillingError,
        InputError,
        UsageError,
        CurrencyMismatch,
        RegisterError,
        OutputError,
    }
    assert {cls: cls.exit_code for cls in classes} == {
        BillingError: 1,
        InputError: 1,
        UsageError: 2,  # a bad parameter: the command line's usage exit code
        CurrencyMismatch: 1,
        RegisterError: 1,
        OutputError: 1,
    }


def test_a_usage_error_carries_the_offending_value() -> None:
    with pytest.raises(UsageError, match="'2026-13'") as caught:
        Period.parse("2026-13")
    assert isinstance(caught.value, BillingError) and caught.value.exit_code == 2
