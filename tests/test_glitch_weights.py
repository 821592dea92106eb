"""Weight indicators on real weights: the all-MiniLM-L6-v2 BERT from the verified asset cache.

Its 994 ``[unusedN]`` rows were never trained. Measured on these weights with the default indicator (cosine
distance to the mean of the [unusedN] rows after removing the first principal component): ROC AUC of [unusedN]
against every other token = 0.99242 (the probability that an [unusedN] row scores lower than another token's row);
with the input-embedding norm alone, 0.99017. The rest of the gap is mostly rare CJK continuation pieces such as
"##後", which score like the unused rows because they were barely trained either.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from analysis.assets import asset_path
from analysis.catalogue import load_catalogue
from analysis.config import ROOT
from analysis.glitch import GlitchError, indicators
from analysis.glitch.indicators import candidates, compute_indicators
from analysis.glitch.probe import run_indicators, store_indicators
from analysis.glitch.weights import open_tensor, resolve_model
from analysis.store.schema import open_readonly

AUC_MEASURED = 0.99242
AUC_NORM_MEASURED = 0.99017
EMB = "embeddings.word_embeddings.weight"


def minilm() -> Path:
    return asset_path(load_catalogue().files["minilm/model.safetensors"]).parent


def roc_auc(score: np.ndarray, positive: np.ndarray) -> float:
    """P(score of a positive < score of a negative), ties counted half (Mann-Whitney U with average ranks)."""
    order = np.argsort(score, kind="stable")
    _, inverse, counts = np.unique(score[order], return_inverse=True, return_counts=True)
    ranks = np.empty(len(score))
    ranks[order] = (np.cumsum(counts) - (counts - 1) / 2)[inverse]
    n1, n0 = positive.sum(), (~positive).sum()
    return float(1 - (ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def test_roc_auc_by_hand() -> None:
    # positives 0.1 and 0.4 vs negatives 0.3, 0.5: pairs (0.1<0.3) (0.1<0.5) (0.4>0.3) (0.4<0.5) -> 3/4
    assert roc_auc(np.array([0.1, 0.3, 0.4, 0.5]), np.array([True, False, True, False])) == 0.75


@pytest.fixture(scope="module")
def bert():
    return run_indicators(str(minilm()))


@pytest.fixture(scope="module")
def unused_mask(bert) -> np.ndarray:
    vocab = json.loads((minilm() / "tokenizer.json").read_text())["model"]["vocab"]
    mask = np.zeros(len(bert.frame), dtype=bool)
    mask[[i for p, i in vocab.items() if re.fullmatch(r"\[unused\d+\]", p)]] = True
    assert mask.sum() == 994
    return mask


def test_files_found(bert) -> None:
    files = resolve_model(str(minilm()))
    assert (files.embedding_name, files.unembedding_name) == (EMB, None)
    assert bert.tokenizer == "bert-uncased"  # the model's tokenizer.json is the catalogue's file (same sha256)
    assert bert.meta["reference"] == r"pattern \[unused\d+\] (994 tokens)"
    assert (bert.meta["n_rows"], bert.meta["dim"], bert.meta["dtype"]) == (30522, 384, "float32")


def test_unused_rows_separate(bert, unused_mask) -> None:
    auc = roc_auc(bert.frame["score"].to_numpy(), unused_mask)
    assert abs(auc - AUC_MEASURED) < 2e-4, auc
    auc_norm = roc_auc(bert.frame["norm"].to_numpy(), unused_mask)
    assert abs(auc_norm - AUC_NORM_MEASURED) < 2e-4, auc_norm


def test_unused_rows_separate_with_half_the_reference(unused_mask) -> None:
    """Reference = even-numbered [unusedN]; the odd ones, not in the reference, still separate."""
    ids = np.flatnonzero(unused_mask)
    run = run_indicators(str(minilm()), reference_ids=ids[::2].tolist())
    held_out = np.zeros(len(unused_mask), dtype=bool)
    held_out[ids[1::2]] = True
    others = ~unused_mask | held_out
    auc = roc_auc(run.frame["score"].to_numpy()[others], held_out[others])
    assert auc > 0.99, auc


def test_norms_are_row_norms(bert) -> None:
    emb = open_tensor(resolve_model(str(minilm())), EMB)
    want = torch.linalg.vector_norm(emb[:50].double(), dim=1).numpy()
    assert np.allclose(bert.frame["norm"].to_numpy()[:50], want, rtol=1e-6)


def test_candidates_are_the_low_percentile_of_reachable_tokens(bert) -> None:
    f = bert.frame
    reachable = f["reachable"].to_numpy()
    assert reachable.sum() == 30522 - 5 - 1331  # minus special and unreachable ids (test_glitch_checks)
    assert not reachable[np.flatnonzero(f["token"].str.fullmatch(r"\[unused\d+\]"))].any()
    threshold = np.percentile(f["score"].to_numpy()[reachable], 2.0)
    assert bert.meta["threshold"] == threshold
    assert f["candidate"].sum() == (reachable & (f["score"].to_numpy() <= threshold)).sum() == bert.meta["n_candidates"]
    assert f["candidate"].sum() == 584  # ceil(0.02 * 29186) with numpy's linear interpolation: 583.72 -> 584 rows


def test_lanczos_agrees_with_the_exact_component(bert, unused_mask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The path used for wide embeddings (Lanczos, d > 512), forced on BERT: same ranking to 1e-4 in AUC."""
    monkeypatch.setattr(indicators, "EXACT_PC_MAX_DIM", 0)
    emb = open_tensor(resolve_model(str(minilm())), EMB)
    ref = np.flatnonzero(unused_mask).tolist()
    lanczos = compute_indicators(emb, reference_ids=ref, max_passes=12)
    assert lanczos.passes <= 12 and lanczos.pc_residual < 2e-3
    assert abs(roc_auc(lanczos.score, unused_mask) - roc_auc(bert.frame["score"].to_numpy(), unused_mask)) < 1e-4
    assert np.abs(lanczos.score - bert.frame["score"].to_numpy()).max() < 5e-3


def test_sharded_weights_read_only_the_embedding_shard(bert, tmp_path: Path) -> None:
    """Two shards and an index; the shard without the embedding is garbage, and is never opened."""
    from safetensors.torch import save_file

    folder = tmp_path / "sharded"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(minilm() / name, folder / name)
    save_file({EMB: open_tensor(resolve_model(str(minilm())), EMB).clone()}, str(folder / "model-00001-of-00002.safetensors"))
    (folder / "model-00002-of-00002.safetensors").write_bytes(b"not a safetensors file")
    index = {"metadata": {}, "weight_map": {EMB: "model-00001-of-00002.safetensors",
                                            "encoder.layer.0.output.dense.weight": "model-00002-of-00002.safetensors"}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    run = run_indicators(str(folder))  # would fail on the garbage shard if it were opened
    # The same rows give the same scores up to the last bit of float32 work: the BLAS reductions' order follows the
    # threads that are free, so a loaded machine can differ in the last digit (seen with other jobs running).
    assert np.allclose(run.frame["score"].to_numpy(), bert.frame["score"].to_numpy(), rtol=1e-6, atol=1e-9)
    assert np.array_equal(run.frame["candidate"].to_numpy(), bert.frame["candidate"].to_numpy())


def test_bf16_weights_accumulate_in_fp32(bert, unused_mask, tmp_path: Path) -> None:
    from safetensors.torch import save_file

    folder = tmp_path / "bf16"
    folder.mkdir()
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(minilm() / name, folder / name)
    emb = open_tensor(resolve_model(str(minilm())), EMB)
    save_file({EMB: emb.to(torch.bfloat16)}, str(folder / "model.safetensors"))
    run = run_indicators(str(folder))
    assert run.meta["dtype"] == "bfloat16"
    assert abs(roc_auc(run.frame["score"].to_numpy(), unused_mask) - AUC_MEASURED) < 1e-3
    assert np.allclose(run.frame["norm"].to_numpy(), bert.frame["norm"].to_numpy(), rtol=1e-2)


def test_stored_and_printed_by_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "atlas.duckdb"
    out = subprocess.run([sys.executable, "-m", "analysis", "glitch", "indicators", "--model", str(minilm()),
                          "--format", "csv", "--db", str(db)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == '"id","token","norm","score","candidate","reachable"'
    assert lines[2].startswith('1,"[unused0]",') and lines[2].endswith(",False,False")
    assert len(lines) == 1 + 30522
    con = open_readonly(db)
    try:
        model, tokenizer, n, ref = con.execute(
            "SELECT model, tokenizer, n_candidates, n_reference FROM glitch_models").fetchone()
        assert (Path(model), tokenizer, n, ref) == (minilm().resolve(), "bert-uncased", 584, 994)
        assert con.execute("SELECT count(*), count(*) FILTER (WHERE candidate) FROM glitch_indicators").fetchone() == (
            30522, 584)
    finally:
        con.close()


def test_store_replaces_a_models_rows(bert, tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    store_indicators(db, bert)
    store_indicators(db, bert)
    con = open_readonly(db)
    try:
        assert con.execute("SELECT count(*) FROM glitch_indicators").fetchone()[0] == 30522
        assert con.execute("SELECT count(*) FROM glitch_models").fetchone()[0] == 1
    finally:
        con.close()


def test_bad_model_folders(tmp_path: Path) -> None:
    with pytest.raises(GlitchError, match="No model folder"):
        resolve_model(str(tmp_path / "missing"))
    (tmp_path / "tokenizer.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"pickle")
    with pytest.raises(GlitchError, match="Only safetensors weights are read"):
        resolve_model(str(tmp_path))
    with pytest.raises(GlitchError, match="No input-embedding tensor named 'nope'"):
        resolve_model(str(minilm()), embedding="nope")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown where there is no GPU")
def test_cuda_asked_for_without_a_gpu() -> None:
    with pytest.raises(GlitchError, match="Run with --device cpu"):
        indicators.pick_device("cuda")


def test_candidates_need_a_reachable_token() -> None:
    with pytest.raises(GlitchError, match="No reachable token"):
        candidates(np.array([0.1]), np.array([False]))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("exact_max_dim", [512, 0], ids=["exact", "lanczos"])
def test_cpu_and_cuda_agree(unused_mask, monkeypatch: pytest.MonkeyPatch, exact_max_dim: int) -> None:
    monkeypatch.setattr(indicators, "EXACT_PC_MAX_DIM", exact_max_dim)
    emb = open_tensor(resolve_model(str(minilm())), EMB)
    ref = np.flatnonzero(unused_mask).tolist()
    cpu = compute_indicators(emb, reference_ids=ref, device="cpu")
    gpu = compute_indicators(emb, reference_ids=ref, device="cuda")
    assert gpu.device.startswith("cuda") and cpu.passes == gpu.passes
    assert np.allclose(cpu.norm, gpu.norm, rtol=1e-5)
    assert np.abs(cpu.score - gpu.score).max() < 1e-4
