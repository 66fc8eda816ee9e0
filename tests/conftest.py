import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, settings

# "ci" keeps `make test` in a few minutes; HYPOTHESIS_PROFILE=deep for a long run.
settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "deep",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


_STATE_DIR_ENV = "HEYGEN_CORE_STATE_DIR"
# (the directory made for this run, the variable's value before it)
_state_dirs: list[tuple[str, str | None]] = []


def pytest_configure(config: pytest.Config) -> None:
    # Sessions record themselves under the state directory (the open-session
    # record): point it at a fresh directory of this run (one per xdist
    # worker), so tests never write into the real home. Set in os.environ so
    # CLI tests' child processes inherit it.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    made = tempfile.mkdtemp(prefix=f"heygen-core-state-{worker}-")
    _state_dirs.append((made, os.environ.get(_STATE_DIR_ENV)))
    os.environ[_STATE_DIR_ENV] = made


def pytest_unconfigure(config: pytest.Config) -> None:
    if not _state_dirs:
        return
    made, previous = _state_dirs.pop()
    shutil.rmtree(made, ignore_errors=True)
    if previous is None:
        os.environ.pop(_STATE_DIR_ENV, None)
    else:
        os.environ[_STATE_DIR_ENV] = previous
