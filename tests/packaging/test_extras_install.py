"""Each framework extra installs next to the framework release its users run today.

pipecat-ai 1.14 requires ``soxr~=1.0.0`` and livekit-agents 1.8.9 requires
``livekit==1.1.21``: our ranges must admit both, or pip refuses the extra. The
wheel is built once per test session; each extra is installed from it into its
own fresh venv at the versions of constraints.txt (what CI installs), and
there the adapter imports, `pip check` is clean, and the framework versions
are the ones users run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging._venvs import CONSTRAINTS, clean_env, copy_project, fresh_venv

# Run inside the fresh venv with the adapter module's name; prints one JSON object.
SCRIPT = r"""
import importlib
import importlib.metadata
import json
import sys


def version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


adapter = importlib.import_module(sys.argv[1])
print(json.dumps({
    "adapter": adapter.__file__,
    "versions": {
        name: version(name)
        for name in ("heygen-core", "pipecat-ai", "soxr", "livekit-agents", "livekit")
    },
}))
"""

# The extra, its adapter module, the distributions it must bring at the
# versions users run today (patterns: soxr 1.0.x), and the other framework,
# which it must not bring.
CASES = [
    pytest.param(
        "pipecat",
        "heygen_core.pipecat",
        {"pipecat-ai": r"1\.14\.0", "soxr": r"1\.0\.\d+"},
        "livekit-agents",
        id="pipecat",
    ),
    pytest.param(
        "livekit-agents",
        "heygen_core.livekit_agents",
        {"livekit-agents": r"1\.8\.9", "livekit": r"1\.1\.21"},
        "pipecat-ai",
        id="livekit-agents",
    ),
]


def run(command: list[str], *, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=clean_env(),
        check=False,
    )


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our wheel, built once per test session (per xdist worker) from a copy of the tree."""
    work = tmp_path_factory.mktemp("wheel")
    source = copy_project(work / "src")
    dist = work / "dist"
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist), str(source)],
        cwd=work,
        timeout=300,
    )
    assert built.returncode == 0, (built.stdout + built.stderr)[-4000:]
    (found,) = dist.glob("heygen_core-*.whl")
    return found


@pytest.mark.slow
@pytest.mark.parametrize(("extra", "adapter", "expected", "absent"), CASES)
def test_the_extra_installs_beside_the_framework_release_users_run(
    tmp_path: Path, wheel: Path, extra: str, adapter: str, expected: dict[str, str], absent: str
) -> None:
    python, pip = fresh_venv(tmp_path / "venv")
    install = run(
        [*pip, "install", "-c", str(CONSTRAINTS), f"heygen-core[{extra}] @ {wheel.as_uri()}"],
        cwd=tmp_path,
        timeout=600,
    )
    assert install.returncode == 0, (install.stdout + install.stderr)[-4000:]

    check = run([*pip, "check"], cwd=tmp_path, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr

    done = run([str(python), "-c", SCRIPT, adapter], cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.splitlines()[-1])
    # The installed copy ran, not the working tree (and a package, not a bare folder).
    assert report["adapter"] is not None, f"{adapter} has no __init__.py"
    assert Path(report["adapter"]).is_relative_to(tmp_path / "venv"), report["adapter"]
    versions = report["versions"]
    assert versions["heygen-core"] is not None
    for name, version in expected.items():
        assert re.fullmatch(version, versions[name] or ""), (name, versions)
    assert versions[absent] is None, versions
