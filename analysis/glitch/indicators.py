"""Weight-based indicators of under-trained tokens (stage 2 of Land & Bartolo), computed with torch.

For the (un)embedding matrix ``M`` (n tokens x d), streamed in row chunks converted to fp32 on the device:

- ``norm``: the L2 norm of each input-embedding row.
- ``score`` (the default indicator): remove the first principal component — project every row off ``v``, the top
  right singular vector of the centred matrix — then take each row's cosine distance to ``r``, the mean of the
  projected rows of a reference set of known-unused tokens. Low = looks like the unused tokens = likely untrained.
  Without a reference set the score is the norm.

Nothing of size n x d is ever materialised besides the mapped tensor itself: with ``v`` a unit vector and
``r = m - (m·v) v`` (``m`` the reference rows' mean), ``M'_i · r = M_i · m - (m·v)(M_i·v)`` and
``|M'_i|² = |M_i|² - (M_i·v)²``, so per row only ``|M_i|²``, ``M_i·m`` and ``M_i·v`` are needed.

``v``: for d <= :data:`EXACT_PC_MAX_DIM`, exactly, from the d x d covariance accumulated in the first pass. Above it,
by Lanczos iteration on the covariance with a fixed-seed start: each pass over the rows multiplies every chunk by
the current Lanczos vector and back while it is in cache (``Mᵀ(M q)``, centred algebraically), so one pass is one
step, and ``M v`` comes from the stored ``M q_j`` with no extra pass. It stops when the Ritz residual
``|Cv - λv| / λ`` is below ``tol`` (default 1e-3) or after ``max_passes`` (default 8).
Accumulation across chunks is in float64 (per-chunk products in fp32), so CPU and CUDA agree to float tolerance.

Example:
    >>> import torch
    >>> E = torch.tensor([[3.0, 4.0], [0.0, 1.0], [0.0, 2.0], [1.0, 0.0]])
    >>> res = compute_indicators(E, reference_ids=[1])
    >>> [round(x, 6) for x in res.norm.tolist()]
    [5.0, 1.0, 2.0, 1.0]
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from analysis.i18n import N_

from .categories import GlitchError

#: Up to this embedding width the first principal component is computed exactly (d x d covariance in pass 1).
EXACT_PC_MAX_DIM = 512
DEFAULT_PERCENTILE = 2.0
_SEED = 0


@dataclass(frozen=True)
class Indicators:
    """Per row (token id): the input-embedding norm and the default score, with how they were computed."""

    norm: np.ndarray  # float64 [n]
    score: np.ndarray  # float64 [n]
    indicator: str  # what ``score`` is
    first_pc: np.ndarray | None  # float64 [d], the removed direction (None when score is the norm)
    passes: int  # passes over the score matrix's rows
    pc_residual: float  # |Cv - λv| / λ of the removed direction (0 when exact)
    device: str
    seconds: float


def pick_device(device: str | None) -> torch.device:
    """``cuda`` when asked for (an error if there is none), ``cpu`` otherwise; ``None``: cuda if present."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise GlitchError("--device cuda was asked for, but torch sees no CUDA device here (CPU-only torch, or no "
                          "GPU). Run with --device cpu.", title=N_("No GPU"))
    if not (device == "cpu" or device.startswith("cuda")):
        raise GlitchError(f"Unknown device {device!r}; use cpu or cuda.")
    return torch.device(device)


def _chunks(n: int, rows: int):
    for start in range(0, n, rows):
        yield start, min(n, start + rows)


def _chunk_rows(d: int) -> int:
    return max(64, (1 << 20) // (4 * max(d, 1)))  # ~1 MiB of fp32 per chunk: stays in cache between the products


def _on(matrix: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The matrix on the device, in its stored dtype (chunks are converted to fp32 as they are used)."""
    return matrix if matrix.device == device else matrix.to(device)


def row_norms(matrix: torch.Tensor, *, device: torch.device) -> np.ndarray:
    """L2 norm of every row, fp32 per chunk, returned as float64."""
    m = _on(matrix, device)
    out = torch.empty(m.shape[0], dtype=torch.float64, device=device)
    for a, b in _chunks(m.shape[0], _chunk_rows(m.shape[1])):
        out[a:b] = torch.linalg.vector_norm(m[a:b].to(torch.float32), dim=1).to(torch.float64)
    return out.cpu().numpy()


def compute_indicators(embedding: torch.Tensor, unembedding: torch.Tensor | None = None, *,
                       reference_ids: Sequence[int] = (), device: str | torch.device | None = "cpu",
                       tol: float = 1e-3, max_passes: int = 8) -> Indicators:
    """Norms of ``embedding``'s rows and the default score over ``unembedding`` (``embedding`` when tied).

    Raises:
        GlitchError: a reference id outside the matrix, a CUDA device that is not there.
    """
    t0 = time.perf_counter()
    dev = device if isinstance(device, torch.device) else pick_device(device)
    score_matrix = embedding if unembedding is None else unembedding
    refs = np.unique(np.asarray(list(reference_ids), dtype=np.int64))
    if len(refs) and (refs[0] < 0 or refs[-1] >= score_matrix.shape[0]):
        raise GlitchError(f"Reference token ids must be between 0 and {score_matrix.shape[0] - 1}; got {int(refs[-1])}.")
    if not len(refs):
        norm = row_norms(embedding, device=dev)
        return Indicators(norm, norm.copy(), "input-embedding L2 norm (no reference set of unused tokens)", None, 1,
                          0.0, str(dev), time.perf_counter() - t0)
    m = _on(score_matrix, dev)
    sq, dot_m, mm, v, mv, passes, residual = _first_pc_and_products(m, refs, tol=tol, max_passes=max_passes)
    mv_scalar = float(mm @ v)
    r_norm = float(torch.sqrt(torch.clamp(mm @ mm - mv_scalar ** 2, min=0.0)))
    dot_r = dot_m - mv_scalar * mv
    proj = torch.sqrt(torch.clamp(sq - mv * mv, min=0.0))
    score = 1.0 - dot_r / torch.clamp(proj * r_norm, min=1e-12)
    norm = torch.sqrt(sq).cpu().numpy() if unembedding is None else row_norms(embedding, device=dev)
    which = "unembedding" if unembedding is not None else "embedding"
    return Indicators(norm, score.cpu().numpy(), f"cosine distance of {which} rows to the mean of {len(refs)} reference "
                      "(unused) tokens, first principal component removed", v.cpu().numpy(), passes, residual,
                      str(dev), time.perf_counter() - t0)


def _first_pc_and_products(m: torch.Tensor, refs: np.ndarray, *, tol: float, max_passes: int):
    """Per row ``|M_i|²`` and ``M_i·m``; ``m``; ``v`` (the first principal component of the centred rows); per row
    ``M_i·v``; passes made and the residual of ``v``. Float64 results."""
    n, d = m.shape
    dev = m.device
    f32, f64 = torch.float32, torch.float64
    rows = _chunk_rows(d)
    mean_ref = m[torch.as_tensor(refs, device=dev)].to(f32).mean(dim=0)
    exact = d <= EXACT_PC_MAX_DIM
    gen = torch.Generator(device="cpu").manual_seed(_SEED)
    q = torch.nn.functional.normalize(torch.randn(d, generator=gen, dtype=f64), dim=0).to(dev)
    sq = torch.empty(n, dtype=f64, device=dev)
    dot_m = torch.empty(n, dtype=f64, device=dev)
    colsum = torch.zeros(d, dtype=f64, device=dev)
    acc = torch.zeros((d, d) if exact else (d,), dtype=f64, device=dev)
    ys = [torch.empty(n, dtype=f64, device=dev)]  # M q_j for each Lanczos vector q_j
    right = torch.stack([mean_ref, q.to(f32)], dim=1)
    # Pass 1: squared norms, products with the reference mean, column sums, and the covariance or C·q_1.
    for a, b in _chunks(n, rows):
        c = m[a:b].to(f32)
        sq[a:b] = (torch.linalg.vector_norm(c, dim=1) ** 2).to(f64)
        both = c @ right
        dot_m[a:b] = both[:, 0].to(f64)
        if exact:
            colsum += c.sum(dim=0, dtype=f32).to(f64)
            acc += (c.T @ c).to(f64)
        else:
            ys[0][a:b] = both[:, 1].to(f64)
            both[:, 0] = 1.0  # the same product gives the column sums and Mᵀ(M q)
            back = (both.T @ c).to(f64)
            colsum += back[0]
            acc += back[1]
    mu = colsum / n
    if exact:
        v = torch.linalg.eigh(acc / n - torch.outer(mu, mu))[1][:, -1]
        mv = torch.empty(n, dtype=f64, device=dev)
        v32 = v.to(f32)
        for a, b in _chunks(n, rows):
            mv[a:b] = (m[a:b].to(f32) @ v32).to(f64)
        sign = _sign_factor(v)
        return sq, dot_m, mean_ref.to(f64), v * sign, mv * sign, 2, 0.0
    # Lanczos on C = (M - 1μᵀ)ᵀ(M - 1μᵀ)/n, one fused pass over the rows per step (each chunk multiplied twice
    # while in cache), with full reorthogonalization; the Ritz residual β_j |s_j| comes free with each step.
    qs, alphas, betas = [q], [], []
    passes = 1
    z = (acc - n * mu * float(mu @ q)) / n
    while True:
        alpha = float(q @ z)
        r = z - alpha * q - (betas[-1] * qs[-2] if betas else 0.0)
        basis = torch.stack(qs, dim=1)
        for _ in range(2):
            r = r - basis @ (basis.T @ r)
        beta = float(torch.linalg.vector_norm(r))
        alphas.append(alpha)
        k = len(alphas)
        t = torch.diag(torch.tensor(alphas, dtype=f64))
        if k > 1:
            off = torch.tensor(betas, dtype=f64)
            t += torch.diag(off, 1) + torch.diag(off, -1)
        evals, evecs = torch.linalg.eigh(t)
        theta, s_top = float(evals[-1]), evecs[:, -1]
        residual = beta * abs(float(s_top[-1])) / max(abs(theta), 1e-30)
        if residual <= tol or passes >= max_passes or beta <= 1e-12 * max(abs(theta), 1e-30):
            break
        betas.append(beta)
        q = r / beta
        qs.append(q)
        q32 = q.to(f32)
        y = torch.empty(n, dtype=f64, device=dev)
        acc.zero_()
        for a, b in _chunks(n, rows):
            c = m[a:b].to(f32)
            yc = c @ q32
            y[a:b] = yc.to(f64)
            acc += (yc @ c).to(f64)
        ys.append(y)
        passes += 1
        z = (acc - n * mu * float(mu @ q)) / n
    s_top = s_top.to(dev)
    v = torch.stack(qs, dim=1) @ s_top
    mv = torch.stack(ys, dim=1) @ s_top
    sign = _sign_factor(v)
    return sq, dot_m, mean_ref.to(f64), v * sign, mv * sign, passes, residual


def _sign_factor(v: torch.Tensor) -> float:
    """Fix the sign of a singular vector (largest-magnitude entry positive), so CPU and CUDA agree."""
    return 1.0 if float(v[torch.argmax(torch.abs(v))]) >= 0 else -1.0


def _sign(v: torch.Tensor) -> torch.Tensor:
    return v * _sign_factor(v)


def candidates(score: np.ndarray, reachable: np.ndarray, percentile: float = DEFAULT_PERCENTILE
               ) -> tuple[np.ndarray, float]:
    """Reachable tokens at or below the ``percentile``-th percentile of the score among reachable tokens.

    >>> c, t = candidates(np.array([0.1, 0.5, 0.2, 0.9, 0.05]), np.array([True, True, True, True, False]), 25)
    >>> c.tolist(), round(t, 3)
    ([True, False, False, False, False], 0.175)
    """
    if not reachable.any():
        raise GlitchError("No reachable token to rank: the tokenizer checks found every token special, partial UTF-8 "
                          "or unreachable. Check that the model folder's tokenizer belongs to the model.")
    threshold = float(np.percentile(score[reachable], percentile))
    return reachable & (score <= threshold), threshold
