"""Importing the audio pump does not import numpy or soxr: they come with the first conversion.

A session that only streams 24 kHz audio, or has not spoken yet, should not
pay their import time at start-up (issue 14).
"""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import heygen_core.audio
import heygen_core.audio.pump
import heygen_core.audio.dialects
heavy = sorted(m for m in ("numpy", "soxr") if m in sys.modules)
print(",".join(heavy))
"""


def test_importing_the_pump_imports_neither_numpy_nor_soxr() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == ""


def test_the_converter_is_still_there_on_first_use() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import heygen_core.audio as a; print(a.AudioConverter(16_000))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "AudioConverter" in out.stdout
