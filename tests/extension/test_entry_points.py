"""A team's package adds a tool and a behaviour through entry points, and a call uses both.

examples/extension is really installed (pip, no dependencies, no build isolation, into a
target directory) and only that directory is added to the path of a fresh Python: dialflow
discovers `loyalty_points` (dialflow.tools) and `spell_out` (dialflow.behaviours) from the
installed metadata alone, `dialflow check` accepts the flow that names them like built-ins,
and a call runs the tool and speaks through the behaviour. Without the package the same flow
is a check error. Loading failures of a plug-in name the plug-in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flows.plugins import PluginError, load_group

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "examples" / "extension"
FLOW = EXTENSION / "loyalty_line.yaml"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example package installed into a directory of its own."""
    work = tmp_path_factory.mktemp("extension")
    source, target = work / "source", work / "site"
    shutil.copytree(EXTENSION, source)  # the build writes next to the sources: keep the tree
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--no-build-isolation", "--no-index", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (
        "pip could not install examples/extension (it needs setuptools and wheel in this "
        f"environment: pip install -e '.[dev]'):\n{done.stdout}\n{done.stderr}")
    assert list(target.glob("dialflow_loyalty-*.dist-info/entry_points.txt"))
    return target


def _python(*args: str, path: Path | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join([str(path), str(ROOT)] if path else [str(ROOT)])
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=300)


def _check(path: Path | None) -> subprocess.CompletedProcess[str]:
    return _python("-m", "engine.app.cli", "check", "--strict", str(FLOW), path=path)


def test_a_call_uses_the_installed_tool_and_behaviour(site: Path) -> None:
    done = _python("-m", "tests.extension.loyalty_call", path=site)
    assert done.returncode == 0, done.stderr
    call = json.loads(done.stdout)
    points = call["points"]
    assert isinstance(points, int) and 0 <= points < 5000  # the tool's own answer
    assert "run_tool loyalty_points" in call["effects"] and "tool.done" in call["events"]
    assert "spell_out points" in call["effects"]
    assert call["said"][1:3] == [f"You have {points} points. That is:", ", ".join(str(points))]
    assert call["state"] == "ended"


def test_check_knows_the_extension_only_when_it_is_installed(site: Path) -> None:
    installed = _check(site)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "ok" in installed.stdout
    missing = _check(None)
    assert missing.returncode == 1
    assert "unknown action 'spell_out'" in missing.stdout + missing.stderr
    assert "Traceback" not in missing.stdout + missing.stderr


def _fake_distribution(where: Path, group: str, value: str) -> None:
    info = where / "broken_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{group}]\nbroken = {value}\n")


def test_a_plugin_that_cannot_load_is_named(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_distribution(tmp_path, "dialflow.test_group", "no_such_module_here:thing")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError) as raised:
        load_group("dialflow.test_group")
    message = str(raised.value)
    assert "'broken'" in message and "broken-plugin" in message
    assert "ModuleNotFoundError" in message


def test_a_plugin_tool_may_not_take_a_built_in_name(tmp_path: Path) -> None:
    module = tmp_path / "clashing_tools.py"
    module.write_text(textwrap.dedent('''
        from tools.registry import tool

        @tool
        def book_appointment() -> str:
            """A second book_appointment."""
            return "no"
    '''))
    _fake_distribution(tmp_path, "dialflow.tools", "clashing_tools:book_appointment")
    done = _python("-c", "import tools.builtin", path=tmp_path)
    assert done.returncode == 1
    assert "tool 'book_appointment' is already given by dialflow; rename it" in done.stderr
