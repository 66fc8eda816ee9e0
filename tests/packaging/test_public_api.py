"""The public API: typed for mypy, complete at run time, and cheap to import.

`heygen_core` exports its names lazily (so `import heygen_core` loads no
pydantic, aiohttp, websockets or numpy) while mypy still sees each real name:
a misspelled import must be a type error, not a silent `Any`.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy_api

import heygen_core
import heygen_core.rest
import heygen_core.session
import heygen_core.simulator
from heygen_core import errors

ROOT = Path(__file__).resolve().parents[2]
# Its own cache (under the project's), so it never races `make typecheck` and
# a re-run takes a fraction of a second.
MYPY_CACHE = ROOT / ".mypy_cache" / "tests-public-api"
HEAVY = ("aiohttp", "numpy", "websockets", "soxr", "pydantic", "heygen_models", "rich", "livekit")


def run_mypy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str) -> tuple[str, int]:
    """Type-check `source` with the project's strict config; return (report, exit status)."""
    path = tmp_path / "user_code.py"
    path.write_text(textwrap.dedent(source))
    # The config's `mypy_path = "generated"` is relative to the project root.
    monkeypatch.chdir(ROOT)
    out, err, status = mypy_api.run(
        ["--config-file", "pyproject.toml", "--cache-dir", str(MYPY_CACHE), str(path)]
    )
    return out + err, status


def test_mypy_rejects_a_misspelled_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report, status = run_mypy(
        tmp_path,
        monkeypatch,
        """\
        from heygen_core import AvatarSesion
        from heygen_core.simulator import SimulatorConfg
        from heygen_core.rest import LiveAvatarClent
        """,
    )
    assert status == 1, report
    assert 'Module "heygen_core.rest" has no attribute "LiveAvatarClent"' in report
    assert 'Module "heygen_core" has no attribute "AvatarSesion"' in report
    assert 'Module "heygen_core.simulator" has no attribute "SimulatorConfg"' in report


def test_mypy_accepts_the_public_names_with_their_real_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ", ".join(heygen_core.__all__)
    report, status = run_mypy(
        tmp_path,
        monkeypatch,
        f"""\
        from heygen_core import {names}
        from heygen_core.simulator import Simulator, SimulatorConfig, SimulatorThread

        reveal_type(AvatarSession.live_avatar)
        reveal_type(PumpConfig)
        reveal_type(SANDBOX_AVATAR_ID)
        reveal_type(decode)
        reveal_type(Simulator)
        """,
    )
    assert status == 0, report
    revealed = re.findall(r'Revealed type is "(.*)"', report)
    assert len(revealed) == 5, report
    # Real types, not Any: a lazy `__getattr__` visible to mypy would give Any.
    assert not any("Any" in line for line in revealed), report
    live_avatar, pump_config, sandbox_id, decode, simulator = revealed
    assert re.search(r"-> heygen_core\.session\.(\w+\.)?AvatarSession$", live_avatar)
    assert re.search(r"-> heygen_core\.audio\.(\w+\.)?PumpConfig$", pump_config)
    assert sandbox_id == "str"
    assert "UnknownEvent" in decode
    assert re.search(r"-> heygen_core\.simulator\.(\w+\.)?Simulator$", simulator)


@pytest.mark.parametrize(
    "package",
    [heygen_core, heygen_core.simulator, heygen_core.rest, heygen_core.session],
    ids=lambda m: m.__name__,
)
def test_every_exported_name_resolves_at_run_time(package: object) -> None:
    exported = package.__all__  # type: ignore[attr-defined]
    assert len(exported) == len(set(exported))
    for name in exported:
        value = getattr(package, name)
        assert value is not None, name
        if inspect.isclass(value) or inspect.isfunction(value):
            # Re-exported, not re-declared: the one object of its defining module.
            module = importlib.import_module(value.__module__)
            assert getattr(module, value.__name__) is value, name
    assert set(exported) <= set(dir(package))
    with pytest.raises(AttributeError, match="AvatarSesion"):
        getattr(package, "AvatarSesion")  # noqa: B009


def test_lazy_table_matches_what_mypy_sees() -> None:
    # The TYPE_CHECKING imports (what mypy sees) and `_LAZY` (what runs) are
    # two spellings of one table; a drift would type-check and then fail.
    for package in (heygen_core, heygen_core.simulator, heygen_core.rest, heygen_core.session):
        assert package.__file__ is not None
        tree = ast.parse(Path(package.__file__).read_text())
        typed: dict[str, str] = {}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.If)
                and isinstance(node.test, ast.Name)
                and node.test.id == "TYPE_CHECKING"
            ):
                for stmt in node.body:
                    if isinstance(stmt, ast.ImportFrom) and stmt.module:
                        typed.update({alias.name: stmt.module for alias in stmt.names})
        assert typed == package._LAZY, package.__name__  # type: ignore[attr-defined]


def test_every_library_error_is_exported() -> None:
    defined = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and value.__module__ == errors.__name__ and name[0] != "_"
    }
    assert defined <= set(heygen_core.__all__), defined - set(heygen_core.__all__)
    assert {"PumpConfig", "RetryPolicy", "SessionError", "RateLimitError"} <= set(
        heygen_core.__all__
    )


def test_every_name_the_readme_imports_from_heygen_core_is_exported() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    imported: set[str] = set()
    for block in re.findall(r"```python\n(.*?)```", readme, re.S):
        for match in re.finditer(r"^from heygen_core import \(?([^)\n]+)", block, re.M):
            imported.update(name.strip() for name in match.group(1).split(","))
    # Names the README's prose says are importable from the package.
    imported.update({"SANDBOX_AVATAR_ID", "PumpConfig", "RetryPolicy", "ApiResult"})
    assert "AvatarSession" in imported and "decode" in imported
    assert imported <= set(heygen_core.__all__), imported - set(heygen_core.__all__)


def loaded_after(statement: str) -> list[str]:
    """The heavy packages a fresh interpreter has loaded after running `statement`."""
    probe = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True
    )
    modules = set(done.stdout.split())
    return [name for name in HEAVY if name in modules]


def test_import_heygen_core_loads_nothing_heavy() -> None:
    assert loaded_after("import heygen_core") == []
    # The probe can fail: building a session loads its REST client's models
    # (test_import_cost.py says what the import alone and the build load).
    build = "from heygen_core import AvatarSession\nAvatarSession.live_avatar(api_key='k')"
    assert {"pydantic", "heygen_models"} <= set(loaded_after(build))


def test_loading_the_pytest_plugin_imports_nothing_heavy() -> None:
    # pytest loads the plugin at every start of every user's test run.
    assert loaded_after("import heygen_core.simulator.pytest_plugin") == []
    assert "pydantic" in loaded_after("from heygen_core.simulator import SimulatorConfig")
