"""Named crash points for the tests: ``BILLING_FAULT=<name>`` kills the run there, as a power cut would.

The crash tests run the real ``billing`` command in a subprocess with this variable set and check
what a crash at that instant leaves on disk and in the register, then what the next run makes of it.
Without the variable (every real run) a point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

POINTS = (
    "staged",  # every file written to the run's staging folder, the register not yet committed
    "committed",  # the register committed, nothing moved into place yet
    "invoice-moved",  # the first issued invoice file moved into place
    "rotating",  # the earlier run's tables half moved to previous-runs/
    "placing",  # this run's tables half moved into place
    "placed",  # every file in place, the run not yet marked published in the register
)


def point(name: str) -> None:
    """Die here, at once and without cleaning up, when ``BILLING_FAULT`` names this point."""
    if os.environ.get("BILLING_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
