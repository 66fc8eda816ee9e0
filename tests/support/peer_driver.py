"""Running a third-party client's driver script as a subprocess, with a deadline."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence

import pytest


async def run_driver(
    argv: Sequence[str], *, what: str, limit: float, env: Mapping[str, str] | None = None
) -> tuple[int, str]:
    """Run `argv` and return its exit status and stdout; fail the test at `limit` seconds.

    Asynchronous, so a simulator on the test's own loop keeps serving the
    driver meanwhile. The driver's stderr is echoed when it fails.
    """
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env=dict(env) if env is not None else None,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), limit)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        pytest.fail(f"the {what} driver did not finish within {limit:.0f} s")
    status = proc.returncode if proc.returncode is not None else -1
    if status != 0:
        sys.stderr.write(err.decode(errors="replace")[-4000:])
    return status, out.decode(errors="replace")
