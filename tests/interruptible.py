"""Run ``heygen-avatar`` in a child process that Ctrl-C (SIGINT) really reaches.

A shell that starts a job in the background without job control (``make
test &``, some CI runners) hands it SIGINT *ignored*, every child inherits
that, and Python then never raises KeyboardInterrupt: a Ctrl-C test would
test nothing. The child re-arms SIGINT before running the CLI's `main`.
"""

from __future__ import annotations

import sys

_BOOT = (
    "import signal, sys; "
    "signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from heygen_core.cli import main; "
    "sys.exit(main())"
)


def heygen_avatar(*args: str) -> list[str]:
    """The argv of ``heygen-avatar ARGS...`` with Ctrl-C re-armed."""
    return [sys.executable, "-c", _BOOT, *args]
