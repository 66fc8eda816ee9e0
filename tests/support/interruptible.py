"""Run ``heygen-avatar`` in a child process that Ctrl-C (SIGINT) really reaches.

A shell that starts a job in the background without job control (``make
test &``, some CI runners) hands it SIGINT *ignored*, every child inherits
that, and Python then never raises KeyboardInterrupt: a Ctrl-C test would
test nothing. The child re-arms SIGINT before running the CLI's `main`.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable

_BOOT = (
    "import signal, sys; "
    "signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from heygen_core.cli.main import main; "
    "sys.exit(main())"
)


def heygen_avatar(*args: str) -> list[str]:
    """The argv of ``heygen-avatar ARGS...`` with Ctrl-C re-armed."""
    return [sys.executable, "-c", _BOOT, *args]


def interrupt_after(
    marker: str,
    args: list[str],
    env: dict[str, str],
    *,
    watch: str = "stderr",
    before: Callable[[], None] = lambda: None,
) -> tuple[int, str]:
    """Run ``heygen-avatar ARGS`` and press Ctrl-C once `marker` shows on `watch`.

    `before` runs just before the key press (to check the live session).
    Returns the exit code and the whole stderr.
    """
    proc = subprocess.Popen(
        heygen_avatar(*args),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines = proc.stderr if watch == "stderr" else proc.stdout
    assert lines is not None
    for line in lines:
        if marker in line:
            break
    before()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    return proc.returncode, err
