"""The GPU path of glitch-token probing, exercised end to end: the same candidates and verdicts on cuda as on cpu.

Trains the tiny GPT-2 of tests/tiny_lm.py in-process (no hub), then for each device runs what
``python -m analysis glitch indicators`` and ``glitch verify`` run (:func:`run_indicators`, :func:`run_verification`)
into a database of its own, and compares: the candidate sets must be equal, every verdict the same, the max
probabilities within 1e-4. Prints the seconds and candidates per second of both devices.

    python -m tests.gpu.test_gpu_glitch          # the figures (on a machine with CUDA), or why it skips
    python -m pytest tests/gpu                   # the same as a test (marker ``gpu``; skipped without CUDA)

Without CUDA the test skips and says why; CI has no GPU. Figures go in docs/benchmarks.md (GPU section).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from analysis.glitch.probe import run_indicators, run_verification, store_indicators
from tests.tiny_lm import make_tiny_gpt2

#: The tiny model's held-out words are 24 of 259 reachable tokens (9%): candidates at the 15th percentile.
PERCENTILE = 15.0


def why_no_cuda() -> str | None:
    """None where CUDA can run; else the reason, naming torch's build."""
    if not torch.cuda.is_available():
        build = torch.version.cuda or "a CPU-only build"
        return f"no CUDA device: torch.cuda.is_available() is False (torch {torch.__version__}, {build})"
    return None


pytestmark = [pytest.mark.gpu, pytest.mark.skipif(why_no_cuda() is not None, reason=why_no_cuda() or "")]


def probe(folder: Path, device: str, db: Path) -> SimpleNamespace:
    """Indicators and verification of every candidate on one device, timed."""
    t0 = time.perf_counter()
    run = run_indicators(str(folder), device=device, percentile=PERCENTILE)
    t_ind = time.perf_counter() - t0
    store_indicators(db, run)
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    verdicts = run_verification(str(folder), db=db, device=device)
    t_ver = time.perf_counter() - t0
    cands = set(run.frame.loc[run.frame["candidate"], "id"].tolist())
    return SimpleNamespace(device=device, candidates=cands, verdicts=verdicts.set_index("id").sort_index(),
                           indicator_seconds=t_ind, verify_seconds=t_ver, per_second=len(cands) / t_ver)


def compare(root: Path) -> tuple[SimpleNamespace, SimpleNamespace, SimpleNamespace]:
    model = make_tiny_gpt2(root / "model")
    cpu = probe(model.folder, "cpu", root / "cpu.duckdb")
    cuda = probe(model.folder, "cuda", root / "cuda.duckdb")
    return model, cpu, cuda


def differences(model: SimpleNamespace, cpu: SimpleNamespace, cuda: SimpleNamespace) -> list[str]:
    """What differs between the devices (or from the held-out words); empty when they agree."""
    out = []
    if cpu.candidates != cuda.candidates:
        out.append(f"candidates: only cpu {sorted(cpu.candidates - cuda.candidates)}, "
                   f"only cuda {sorted(cuda.candidates - cpu.candidates)}")
    if not model.held <= cpu.candidates:
        out.append(f"held-out words not among the candidates: {sorted(model.held - cpu.candidates)}")
    if cpu.verdicts.index.tolist() != cuda.verdicts.index.tolist():
        out.append("verified ids differ")
    elif cpu.verdicts["under_trained"].tolist() != cuda.verdicts["under_trained"].tolist():
        out.append("verdicts differ")
    elif not np.allclose(cpu.verdicts["max_prob"], cuda.verdicts["max_prob"], atol=1e-4):
        out.append(f"max_prob differs by {np.abs(cpu.verdicts['max_prob'] - cuda.verdicts['max_prob']).max():.2g}")
    found = set(cuda.verdicts.index[cuda.verdicts["under_trained"]])
    if found != model.held:
        out.append(f"cuda verdicts are not exactly the held-out words ({len(found)} vs {len(model.held)})")
    return out


def test_cuda_and_cpu_give_the_same_candidates_and_verdicts(tmp_path: Path) -> None:
    model, cpu, cuda = compare(tmp_path)
    print(report(cpu, cuda))
    assert differences(model, cpu, cuda) == []


def report(cpu: SimpleNamespace, cuda: SimpleNamespace) -> str:
    name = torch.cuda.get_device_name(0)
    lines = [f"device: {name}; torch {torch.__version__}; {len(cpu.candidates)} candidates",
             "| device | indicators (s) | verification (s) | candidates/s |", "| --- | ---: | ---: | ---: |"]
    for r in (cpu, cuda):
        lines.append(f"| {r.device} | {r.indicator_seconds:.2f} | {r.verify_seconds:.2f} | {r.per_second:.1f} |")
    lines.append(f"cuda/cpu verification speed-up: {cpu.verify_seconds / cuda.verify_seconds:.2f}x")
    return "\n".join(lines)


def main() -> int:
    reason = why_no_cuda()
    if reason:
        print(f"skipped: {reason}. Run this on a machine with a CUDA GPU and torch's CUDA build.")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        model, cpu, cuda = compare(Path(tmp))
        print(report(cpu, cuda))
        problems = differences(model, cpu, cuda)
        print("\n".join(problems) or "same candidates and verdicts on cuda and cpu")
        return 1 if problems else 0

if __name__ == "__main__":
    sys.exit(main())
