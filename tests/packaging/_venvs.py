"""Fresh venvs for the install tests: a copy of the project to build, and a clean environment."""

from __future__ import annotations

import os
import shutil
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / "constraints.txt"


def copy_project(target: Path) -> Path:
    """Copy the project's build inputs to `target` and return it.

    pip builds a local directory in place (build/, *.egg-info); a copy keeps
    that out of the working tree the other test workers are reading.
    """
    ignore = shutil.ignore_patterns(
        ".*", "__pycache__", "*.egg-info", "build", "dist", "tests", "bench", "docs"
    )
    shutil.copytree(ROOT, target, ignore=ignore)
    return target


def clean_env() -> dict[str, str]:
    """The environment minus anything that would leak this venv (or a key) into the new one."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "HEYGEN_LIVE_AVATAR_API_KEY", "HEYGEN_API_KEY")
    return {k: v for k, v in os.environ.items() if k not in drop}


def fresh_venv(env_dir: Path) -> tuple[Path, list[str]]:
    """Create an empty venv; return its python and the pip command that installs into it.

    No pip inside (ensurepip costs seconds): this venv's pip installs into it
    through ``--python``.
    """
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    return python, [sys.executable, "-m", "pip", "--python", str(python)]
