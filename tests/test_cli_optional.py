"""Commands that need a package the public demo image leaves out (requirements-demo.txt: no torch, transformers or
Ray) end with a message that names the package and how to install it, not a traceback.

The package is made unimportable the way Python itself reports a missing module (``sys.modules[name] = None`` makes
``import name`` raise ModuleNotFoundError with that name), in a fresh interpreter running the real CLI.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_without(package: str, *argv: str) -> subprocess.CompletedProcess:
    code = (f"import sys; sys.modules[{package!r}] = None\n"
            f"from analysis.cli import main\nsys.exit(main({list(argv)!r}))")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_glitch_indicators_without_torch_says_what_to_install():
    done = run_without("torch", "glitch", "indicators", "--model", "some/model", "--no-store")
    assert done.returncode == 2
    assert done.stderr == (
        "error: Glitch probing with model weights (glitch indicators, glitch verify) needs the package 'torch', which "
        "this installation leaves out (the public demo image installs requirements-demo.txt). Install the full set "
        "with `.venv/bin/pip install -r requirements.txt` (or build the image with "
        "--build-arg REQUIREMENTS=requirements.txt), then run the command again.\n")
    assert "Traceback" not in done.stderr


def test_another_missing_module_is_not_hidden():
    """Only the optional packages get the message: a module missing for another reason still fails loudly."""
    done = run_without("duckdb", "tokenizers")
    assert done.returncode == 1 and "Traceback" in done.stderr and "duckdb" in done.stderr
