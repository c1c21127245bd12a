"""Event scripts: YAML files that drive a whole call with timed events and scripted fakes,
and assert the exact trace. Run by `dialflow test` and collected by pytest.

Public API: `load_script(path)`, `run_script(script)`.
"""

from engine.scripts.format import Script, ScriptInvalid, load_script
from engine.scripts.runner import ScriptResult, run_script

__all__ = ["Script", "ScriptInvalid", "ScriptResult", "load_script", "run_script"]
