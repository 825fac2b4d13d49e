"""Worker processes end with the run that started them, however it ends (Ctrl-C, SIGTERM, SIGKILL)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a worker: ask Linux to send SIGTERM when the parent dies; end at once if it already has.

    Without this, a worker of a run killed by SIGTERM or SIGKILL is adopted by init and keeps reading
    (holding the run's files open) for minutes. Elsewhere than Linux this does nothing.
    """
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if os.getppid() != parent or parent == 1:  # the parent died before prctl took effect
        os._exit(1)
