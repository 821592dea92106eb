"""Benchmark: weight indicators on a synthetic 128k x 4096 fp32 embedding saved as safetensors.

In one run, on the same file (page cache warm for both, after one untimed read):
  * baseline: just reading the tensor — ``safe_open(...).get_tensor(name)`` and touching every page (``clone()``),
    which is what any reader of the weights pays;
  * ours: ``open_tensor`` + ``compute_indicators`` (norms, first principal component, cosine scores against 1,000
    reference rows) on the CPU;
  * ratio ours / baseline (medians of 3 each, alternating; target <= 2 on CPU);
  * peak memory (VmHWM) of each in a fresh subprocess, above that of an interpreter with the same imports, as a
    multiple of the tensor's size (target <= ~1.5x; the mapped file's pages count).

The matrix is structured like a trained embedding: a shared offset, one dominant direction, isotropic noise, and
1,000 "unused" rows near a common point (the reference set). With ``--cuda`` (on a GPU machine) the indicators
also run on the GPU and the largest score difference to the CPU run is printed.

With ``--verify N``, prompt-verification throughput (candidates per second, both templates) is measured for N
candidates on two random-weight GPT-2 models over the BERT vocabulary of the asset cache (30,522 tokens): the tiny
architecture of the tests (2 layers, width 64) and GPT-2 small (12 layers, width 768, ~110M parameters); weights do
not change the work. ``--device`` picks cpu or cuda.

Usage: python tests/bench/bench_glitch.py [--rows 131072] [--dim 4096] [--keep PATH] [--json out.json] [--cuda]
       [--threads N] [--verify N [--device cpu|cuda] [--only-verify]]
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from analysis.glitch.indicators import compute_indicators  # noqa: E402
from analysis.glitch.weights import open_tensor, resolve_model  # noqa: E402

NAME = "model.embed_tokens.weight"
N_UNUSED = 1000


def make_model(folder: Path, rows: int, dim: int) -> list[int]:
    """Write config.json, a two-token tokenizer.json stand-in and the synthetic embedding; return the unused ids."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    unused = torch.randperm(rows, generator=g)[:N_UNUSED].sort().values
    offset = torch.randn(dim, generator=g) * 0.05
    direction = torch.nn.functional.normalize(torch.randn(dim, generator=g), dim=0)
    emb = torch.empty(rows, dim)
    for a in range(0, rows, 8192):  # build in blocks: never two full copies in memory
        b = min(rows, a + 8192)
        block = torch.randn(b - a, dim, generator=g) * 0.02 + offset
        block += torch.randn(b - a, 1, generator=g) * 0.5 * direction
        emb[a:b] = block
    emb[unused] = offset * 0.3 + torch.randn(N_UNUSED, dim, generator=g) * 0.002
    save_file({NAME: emb}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({"vocab_size": rows, "hidden_size": dim}))
    (folder / "tokenizer.json").write_text("{}")  # not read here: only the tensor is
    (folder / "unused.json").write_text(json.dumps(unused.tolist()))
    return unused.tolist()


def baseline(folder: Path) -> float:
    from safetensors import safe_open

    t = time.perf_counter()
    with safe_open(str(folder / "model.safetensors"), framework="pt") as f:
        x = f.get_tensor(NAME).clone()
    elapsed = time.perf_counter() - t
    del x
    return elapsed


def ours(folder: Path, unused: list[int], device: str = "cpu"):
    t = time.perf_counter()
    files = resolve_model(str(folder))
    result = compute_indicators(open_tensor(files, files.embedding_name), reference_ids=unused, device=device)
    return time.perf_counter() - t, result


def peak_rss(which: str, folder: Path) -> tuple[float, float]:
    """Peak resident memory (VmHWM, bytes) of a fresh interpreter that runs only ``which``, and of one that only
    imports the same modules (ru_maxrss would carry this process's own peak over fork and exec)."""
    def run(body: str) -> float:
        code = (f"import sys, json; sys.path.insert(0, {str(ROOT)!r});"
                "from tests.bench.bench_glitch import baseline, ours; from pathlib import Path;"
                f"p = Path({str(folder)!r});" + body +
                ";print(next(int(x.split()[1]) * 1024 for x in open('/proc/self/status') if x.startswith('VmHWM')))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return float(out.stdout.strip().splitlines()[-1])

    body = "baseline(p)" if which == "baseline" else "ours(p, json.loads((p / 'unused.json').read_text()))"
    return run(body), run("pass")


def verify_throughput(n: int, device: str) -> dict[str, float]:
    """Candidates per second through ``verify_candidates`` for random-weight tiny and GPT-2-small models."""
    from transformers import GPT2Config, GPT2LMHeadModel

    from analysis.glitch.checks import encode_plain
    from analysis.glitch.verify import verify_candidates
    from analysis.tokenizers import get_tokenizer

    tok = get_tokenizer("bert-uncased")
    dev = torch.device(device)
    out = {}
    for name, layers, width in (("tiny", 2, 64), ("gpt2-small", 12, 768)):
        torch.manual_seed(0)
        cfg = GPT2Config(vocab_size=30522, n_positions=256, n_embd=width, n_layer=layers, n_head=max(1, width // 64),
                         bos_token_id=0, eos_token_id=0)
        model = GPT2LMHeadModel(cfg).to(dev).eval()
        cands = list(range(2000, 2000 + n))
        batch = 64 if dev.type == "cuda" else 8
        verify_candidates(model, lambda t: encode_plain(tok, [t])[0], cands[:batch], device=dev, batch_size=batch)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        verify_candidates(model, lambda t: encode_plain(tok, [t])[0], cands, device=dev, batch_size=batch)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        out[f"verify_{name}_candidates_per_s"] = n / (time.perf_counter() - t)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=131072)
    ap.add_argument("--dim", type=int, default=4096)
    ap.add_argument("--keep", type=Path, help="folder for the synthetic model (kept; reused if present)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--cuda", action="store_true", help="also run on the GPU and compare")
    ap.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own choice)")
    ap.add_argument("--verify", type=int, metavar="N", help="also measure verification throughput on N candidates")
    ap.add_argument("--device", default="cpu", help="device for --verify (cpu or cuda)")
    ap.add_argument("--only-verify", action="store_true", help="skip the indicator benchmark")
    args = ap.parse_args()
    if args.only_verify:
        for k, v in verify_throughput(args.verify or 64, args.device).items():
            print(f"{k}: {v:.1f}")
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    tmp = None
    folder = args.keep
    if folder is None:
        tmp = tempfile.TemporaryDirectory(prefix="atlas-glitch-bench-")
        folder = Path(tmp.name)
    if (folder / "unused.json").is_file():
        unused = json.loads((folder / "unused.json").read_text())
    else:
        t = time.perf_counter()
        unused = make_model(folder, args.rows, args.dim)
        print(f"wrote {folder / 'model.safetensors'} in {time.perf_counter() - t:.1f} s", flush=True)
    size = (folder / "model.safetensors").stat().st_size
    baseline(folder)  # warm the page cache
    base_t, ours_t, result = [], [], None
    for _ in range(3):
        base_t.append(baseline(folder))
        elapsed, result = ours(folder, unused)
        ours_t.append(elapsed)
    lab = np.zeros(args.rows, dtype=bool)
    lab[unused] = True
    flagged = result.score <= np.percentile(result.score, 100 * N_UNUSED / args.rows)
    report = {
        "rows": args.rows, "dim": args.dim, "file_bytes": size, "torch": torch.__version__,
        "threads": torch.get_num_threads(), "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "baseline_s": base_t, "ours_s": ours_t,
        "ratio": statistics.median(ours_t) / statistics.median(base_t),
        "passes": result.passes, "pc_residual": result.pc_residual,
        "unused_recovered": int((flagged & lab).sum()),
    }
    for which in ("baseline", "ours"):
        peak, idle = peak_rss(which, folder)
        report[f"peak_rss_{which}_gib"] = peak / 2**30
        report[f"peak_rss_{which}_above_imports_x_tensor"] = (peak - idle) / size
    if args.cuda:
        ours(folder, unused, device="cuda")  # warm-up: CUDA context, the tensor's first copy
        elapsed, gpu = ours(folder, unused, device="cuda")
        report["cuda_s"] = elapsed
        report["cuda_max_abs_score_diff"] = float(np.abs(gpu.score - result.score).max())
    if args.verify:
        report.update(verify_throughput(args.verify, args.device))
    for k, v in report.items():
        print(f"{k}: {v}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
