"""How much memory one operation takes: run it in a fresh interpreter and compare its peak resident memory with
the resident memory just before it (Linux: VmRSS and VmHWM of /proc/self/status; the high-water mark is reset
just before the operation by writing 5 to /proc/self/clear_refs, so that imports and setup do not count).

A fresh process, because a test process's allocator keeps memory that earlier tests freed, and an operation could
reuse it unseen. Inputs are made by the test beforehand (files on disk), so that making them is not counted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_RUNNER = """
import json, sys
{setup}
def _status(key):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith(key + ":")) / 1024
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the high-water mark to the resident memory now
_before = _status("VmRSS")
_out = {{"error": None, "message": None, "value": None}}
try:
{action}
except BaseException as e:
    _out["error"] = type(e).__name__
    _out["message"] = getattr(e, "message", str(e))
_out["growth_mb"] = _status("VmHWM") - _before
print("RESULT" + json.dumps(_out, default=str))
"""


def measure(setup: str, action: str, *, env: dict[str, str] | None = None, timeout: float = 300) -> dict:
    """Run ``setup`` (imports), then ``action`` (which may set ``_out["value"]``) in a fresh interpreter.

    Returns ``{"growth_mb", "error", "message", "value"}``: the peak resident memory during ``action`` above the
    resident memory before it, in MiB; the exception's class name and message if it raised.
    """
    code = _RUNNER.format(setup=textwrap.dedent(setup), action=textwrap.indent(textwrap.dedent(action), "    "))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")), None)
    if line is None:
        raise AssertionError(f"the measured process failed (exit {proc.returncode}): {proc.stderr[-3000:]}")
    return json.loads(line[len("RESULT"):])
