"""The model-side pipeline: indicators for a model (stage 2) and prompt verification of its candidates (stage 3),
with results written to the statistics store.

Example:
    >>> run = run_indicators(".cache/atlas/files/minilm")            # doctest: +SKIP
    >>> run.frame.columns.tolist()[:5], run.reference                 # doctest: +SKIP
    (['id', 'token', 'norm', 'score', 'candidate'], 'pattern \\[unused\\d+\\] (994 tokens)')
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.i18n import N_

from ..progress import Progress
from .categories import Category, GlitchError

#: Known-unused token patterns, tried in order; the first that matches any piece is the default reference set.
REFERENCE_PATTERNS = (
    r"\[unused\d+\]",  # BERT
    r"<unused\d+>",  # Gemma
    r"<\|reserved_special_token_\d+\|>",  # Llama 3
    r"<SPECIAL_\d+>",  # Mistral Tekken
    r"<extra_id_\d+>",  # T5
    r"\[control_\d+\]",  # Mistral v3
)


@dataclass
class IndicatorRun:
    """One model's indicators: one row per embedding row, and how they were computed."""

    model: str
    source: str
    tokenizer: str
    tokenizer_sha256: str
    frame: pd.DataFrame  # id, token, norm, score, candidate, reachable
    meta: dict[str, object]

    @property
    def reference(self) -> str:
        return str(self.meta["reference"])


def catalogue_match(sha256: str) -> str | None:
    """The catalogue tokenizer whose vocabulary file has this sha256 (a model shipping a catalogue vocabulary)."""
    from ..catalogue import load_catalogue

    for entry in load_catalogue().entries.values():
        if any(f.sha256 == sha256 for f in entry.files.values()):
            return entry.id
    return None


def model_tokenizer(files):
    """The model's own tokenizer (its tokenizer.json / .model), as the catalogue entry when the file is one."""
    from ..tokenizers import get_tokenizer
    from ..tokenizers.registry import load_file

    sha = files.tokenizer_sha256()
    tid = catalogue_match(sha)
    if tid is not None:
        return get_tokenizer(tid), sha
    return load_file(files.tokenizer_path, tokenizer_id=f"file:{files.tokenizer_path}"), sha


def reference_set(pieces: Sequence[str], *, ids: Sequence[int] | None = None, pattern: str | None = None
                  ) -> tuple[list[int], str]:
    """Known-unused token ids and a description: given ids, else a pattern's matches, else the default patterns."""
    if ids:
        return sorted(set(int(i) for i in ids)), f"{len(set(ids))} given ids"
    patterns = [pattern] if pattern else list(REFERENCE_PATTERNS)
    for p in patterns:
        try:
            rx = re.compile(p)
        except re.error as e:
            raise GlitchError(f"--reference-pattern {p!r} is not a valid regular expression: {e}.") from e
        found = [i for i, piece in enumerate(pieces) if rx.fullmatch(piece)]
        if found:
            return found, f"pattern {p} ({len(found)} tokens)"
    if pattern:
        raise GlitchError(f"No token of the vocabulary matches --reference-pattern {pattern!r}.", title=N_("Empty reference set"))
    return [], "none found (score is the input-embedding norm)"


def run_indicators(spec: str, *, device: str | None = "cpu", reference_ids: Sequence[int] | None = None,
                   reference_pattern: str | None = None, percentile: float = 2.0, embedding: str | None = None,
                   unembedding: str | None = None, progress: Progress | None = None) -> IndicatorRun:
    """Indicators for every row of a model's (un)embedding, with the tokenizer checks of its own tokenizer."""
    from .checks import scan_vocabulary
    from .indicators import candidates, compute_indicators
    from .weights import open_tensor, resolve_model

    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    files = resolve_model(spec, embedding=embedding, unembedding=unembedding)
    tok, sha = model_tokenizer(files)
    scan = scan_vocabulary(tok)
    pieces = [tok.piece(i) for i in range(len(scan))]
    refs, ref_desc = reference_set(pieces, ids=reference_ids, pattern=reference_pattern)
    emb = open_tensor(files, files.embedding_name)
    unemb = open_tensor(files, files.unembedding_name) if files.unembedding_name else None
    n = emb.shape[0]
    if unemb is not None and unemb.shape != emb.shape:
        raise GlitchError(f"The embedding {tuple(emb.shape)} and unembedding {tuple(unemb.shape)} differ in shape; pass "
                          "the right names with --embedding-tensor / --unembedding-tensor.")
    say(f"{files.model_id}: {files.embedding_name} {tuple(emb.shape)} {str(emb.dtype).replace('torch.', '')}"
        f"{', unembedding ' + files.unembedding_name if unemb is not None else ' (tied)'}; reference: {ref_desc}")
    refs = [i for i in refs if i < n]
    ind = compute_indicators(emb, unemb, reference_ids=refs, device=device)
    reachable = np.zeros(n, dtype=bool)
    k = min(n, len(scan))
    bad = Category.SPECIAL | Category.PARTIAL_UTF8 | Category.UNREACHABLE
    reachable[:k] = (scan.flags[:k] & np.uint16(bad)) == 0
    reachable[:k] &= np.array([bool(d) for d in scan.display[:k].tolist()], dtype=bool)
    reachable[np.asarray(refs, dtype=np.int64)] = False
    cand, threshold = candidates(ind.score, reachable, percentile)
    tokens = np.empty(n, dtype=object)
    tokens[:] = ""
    tokens[:k] = scan.display[:k]
    frame = pd.DataFrame({"id": np.arange(n), "token": tokens, "norm": ind.norm, "score": ind.score,
                          "candidate": cand, "reachable": reachable})
    meta = {"n_rows": n, "dim": int(emb.shape[1]), "dtype": str(emb.dtype).replace("torch.", ""),
            "embedding": files.embedding_name, "unembedding": files.unembedding_name or "(tied)",
            "indicator": ind.indicator, "reference": ref_desc, "n_reference": len(refs), "percentile": percentile,
            "threshold": threshold, "n_candidates": int(cand.sum()), "device": ind.device,
            "passes": ind.passes, "seconds": time.perf_counter() - t0}
    say(f"{int(cand.sum())} candidates at or below the {percentile:g}th percentile ({threshold:.6g}) of "
        f"{int(reachable.sum()):,} reachable tokens; {ind.passes} pass(es) over the rows in {ind.seconds:.1f} s")
    return IndicatorRun(files.model_id, spec, tok.id, sha, frame, meta)


def store_indicators(db: Path | None, run: IndicatorRun) -> Path:
    """Write one model's indicators into the store (replacing earlier ones of the model; verdicts are kept)."""
    from ..store.schema import default_db_path
    from ..store.writer import open_writer
    from .extension import TokenChecks
    from .store import insert_frame

    path = Path(db) if db else default_db_path()
    m = run.meta
    with open_writer(path, extensions=[TokenChecks()]) as con:
        _mark_schema(con)
        con.execute("DELETE FROM glitch_models WHERE model = ?", [run.model])
        con.execute("DELETE FROM glitch_indicators WHERE model = ?", [run.model])
        con.execute("INSERT INTO glitch_models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [run.model, run.source, run.tokenizer, run.tokenizer_sha256, m["n_rows"], m["dim"], m["dtype"],
                     m["embedding"], m["unembedding"], m["indicator"], m["reference"], m["n_reference"],
                     m["percentile"], m["threshold"], m["n_candidates"], m["device"], m["seconds"], datetime.now(UTC)])
        frame = run.frame.rename(columns={"id": "token_id"}).assign(model=run.model)
        insert_frame(con, "glitch_indicators", frame)
    return path


def run_verification(spec: str, *, db: Path | None = None, device: str | None = None, top: int | None = None,
                     batch_size: int | None = None, threshold: float | None = None, flush_seconds: float = 30.0,
                     progress: Progress | None = None, **indicator_options) -> pd.DataFrame:
    """Verify a model's candidates by prompting; resumable (verdicts already stored for this template version are
    kept, the rest are computed in batches and written every ``flush_seconds``). Indicators are computed first if
    the store has none for the model. Returns the verdicts of the candidates asked for."""
    import torch

    from ..store.schema import default_db_path, open_readonly
    from ..store.writer import has_table, open_writer
    from .extension import TokenChecks
    from .indicators import pick_device
    from .store import insert_frame
    from .verify import DEFAULT_THRESHOLD, PROMPT_TEMPLATE_VERSION, load_causal_lm, verify_candidates
    from .weights import resolve_model

    say = progress or (lambda _m: None)
    path = Path(db) if db else default_db_path()
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    files = resolve_model(spec, embedding=indicator_options.get("embedding"),
                          unembedding=indicator_options.get("unembedding"))
    model_id = files.model_id

    def stored() -> tuple[pd.DataFrame, set[int]]:
        if not path.is_file():
            return pd.DataFrame(), set()
        with open_readonly(path) as con:
            if not has_table(con, "glitch_indicators"):
                return pd.DataFrame(), set()
            cands = con.execute("SELECT token_id, score FROM glitch_indicators WHERE model = ? AND candidate "
                                "ORDER BY score, token_id", [model_id]).df()
            done = {r[0] for r in con.execute("SELECT token_id FROM glitch_verdicts WHERE model = ? AND "
                                              "template_version = ?", [model_id, PROMPT_TEMPLATE_VERSION]).fetchall()}
            return cands, done

    cands, done = stored()
    if cands.empty:
        say(f"no indicators stored for {model_id}: computing them first")
        store_indicators(path, run_indicators(spec, device=device, progress=say, **indicator_options))
        cands, done = stored()
    wanted = cands["token_id"].tolist()[:top] if top else cands["token_id"].tolist()
    todo = [i for i in wanted if i not in done]
    say(f"{len(wanted)} candidate(s) asked for; {len(wanted) - len(todo)} already verified "
        f"(template version {PROMPT_TEMPLATE_VERSION}); {len(todo)} to go")
    if todo:
        dev = pick_device(device)
        tok, _ = model_tokenizer(files)
        from .checks import encode_plain

        def encode(text: str) -> list[int]:
            return encode_plain(tok, [text])[0]

        bos = _bos(tok)
        if Path(spec).expanduser().is_dir():
            repo, rev = str(Path(spec).expanduser()), ""
        else:  # hf:ORG/NAME[@REV] -> ORG/NAME and REV
            repo, _, rev = model_id.removeprefix("hf:").partition("@")
        model = load_causal_lm(repo, device=dev, revision=rev or None)
        bs = batch_size or (64 if dev.type == "cuda" else 8)
        t0 = time.perf_counter()
        last_flush = t0
        pending: list = []
        for a in range(0, len(todo), bs):
            pending += verify_candidates(model, encode, todo[a:a + bs], bos=bos, device=dev, batch_size=bs,
                                         threshold=threshold)
            n_done = a + len(todo[a:a + bs])
            rate = n_done / max(time.perf_counter() - t0, 1e-9)
            say(f"[{n_done}/{len(todo)}] {rate:.1f} candidates/s")
            if time.perf_counter() - last_flush >= flush_seconds or n_done == len(todo):
                frame = pd.DataFrame([{"model": model_id, "token_id": v.token_id, "max_prob": v.max_prob,
                                       "best_prompt": v.best_prompt, "threshold": threshold,
                                       "under_trained": v.under_trained, "template_version": PROMPT_TEMPLATE_VERSION,
                                       "verified_at": datetime.now(UTC)} for v in pending])
                with open_writer(path, extensions=[TokenChecks()]) as con:
                    _mark_schema(con)
                    con.execute("DELETE FROM glitch_verdicts WHERE model = ? AND list_contains(?, token_id)",
                                [model_id, frame["token_id"].tolist()])
                    insert_frame(con, "glitch_verdicts", frame)
                pending, last_flush = [], time.perf_counter()
        del model
        if dev.type == "cuda":
            torch.cuda.empty_cache()
    with open_readonly(path) as con:
        return con.execute(
            """SELECT v.token_id AS id, i.token, i.score, v.max_prob, v.best_prompt, v.under_trained, v.template_version
               FROM glitch_verdicts v JOIN glitch_indicators i USING (model, token_id)
               WHERE v.model = ? AND list_contains(?, v.token_id) ORDER BY i.score, v.token_id""",
            [model_id, wanted]).df()


def _mark_schema(con) -> None:
    """A database this module created from nothing gets the store's schema version, so readers accept it."""
    from ..store.schema import SCHEMA_VERSION

    con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])


def _bos(tok) -> list[int]:
    """The ids the tokenizer's post-processor puts before a text (BOS), found by encoding with and without them."""
    plain = tok.encode("a").ids
    full = tok.encode("a", add_special_tokens=True).ids
    for k in range(len(full) - len(plain) + 1):
        if full[k:k + len(plain)] == plain:
            return full[:k]
    return []
