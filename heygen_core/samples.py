r"""Audio bundled with the package, for demos, examples and first tests.

``hello.wav`` is about 5 s of synthetic English speech (mono, 22.05 kHz,
16-bit PCM), made with espeak-ng 1.51 from Debian::

    espeak-ng -v en-us -s 160 -w heygen_core/data/hello.wav \\
        "Hello! I am a streaming avatar, talking through the heygen core simulator."
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

SPEECH_SAMPLE_TEXT = "Hello! I am a streaming avatar, talking through the heygen core simulator."
"""What the bundled speech sample says."""


def speech_sample() -> Path:
    """Return the path of the bundled speech sample (``heygen_core/data/hello.wav``)."""
    # A real file in both editable and regular installs (the package is never zipped).
    return Path(str(files("heygen_core") / "data" / "hello.wav"))
