"""Indicators and prompt verification recover the held-out tokens of a tiny GPT-2 trained here on the CPU.

The model (transformers' GPT-2: 2 layers, width 64, 268-token word-level vocabulary) is trained for 250 steps on
text generated from 200 words, the verification templates' own words, and repetition patterns of the kind the
templates ask for. 24 further words are in the vocabulary but never in the training text (held out), and 8
``<unusedN>`` tokens, the default reference set, never occur either. Candidates are taken at the 15th percentile
(the held-out words are 24 of 259 reachable tokens, 9%, far above the default 2nd percentile of a real vocabulary).

Measured: all 24 held-out words are among the 39 candidates, and verification (max probability below 0.01) keeps
exactly them — precision 1.0, recall 1.0; held-out words get at most ~0.004, trained ones at least ~0.7.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from analysis.config import ROOT
from analysis.glitch import flags_for
from analysis.glitch.probe import run_indicators, run_verification, store_indicators
from analysis.glitch.verify import PROMPT_TEMPLATE_VERSION, TEMPLATES, prompt_ids
from analysis.store.schema import open_readonly
from tests.tiny_lm import make_tiny_gpt2


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = tmp_path_factory.mktemp("tiny_gpt2")
    model = make_tiny_gpt2(root / "model")
    model.db = root / "atlas.duckdb"
    model.run = run_indicators(str(model.folder), percentile=15.0)
    store_indicators(model.db, model.run)
    return model


def test_model_files(tiny) -> None:
    assert sorted(p.name for p in tiny.folder.iterdir() if p.suffix in (".json", ".safetensors")) == [
        "config.json", "generation_config.json", "model.safetensors", "tokenizer.json"]
    assert tiny.run.meta["embedding"] == "transformer.wte.weight" and tiny.run.meta["unembedding"] == "(tied)"
    assert tiny.run.meta["reference"] == r"pattern <unused\d+> (8 tokens)"


def test_indicators_put_every_held_out_token_among_the_candidates(tiny) -> None:
    f = tiny.run.frame
    cands = set(f.loc[f["candidate"], "id"].tolist())
    assert int(f["reachable"].sum()) == 268 - 9  # the 9 special tokens are not reachable
    assert len(cands) == 39  # 15% of 259 reachable tokens: 38.85 -> 39
    assert tiny.held <= cands


def test_verification_recovers_exactly_the_held_out_tokens(tiny) -> None:
    verdicts = run_verification(str(tiny.folder), db=tiny.db, device="cpu")
    assert len(verdicts) == 39 and set(verdicts["template_version"]) == {PROMPT_TEMPLATE_VERSION}
    found = set(verdicts.loc[verdicts["under_trained"], "id"].tolist())
    precision = len(found & tiny.held) / len(found)
    recall = len(found & tiny.held) / len(tiny.held)
    assert (precision, recall) == (1.0, 1.0)
    held = verdicts["id"].isin(tiny.held).to_numpy()
    assert verdicts["max_prob"].to_numpy()[held].max() < 0.01 < verdicts["max_prob"].to_numpy()[~held].min()


def test_verification_resumes(tiny, tmp_path: Path) -> None:
    """A second run keeps what is stored; a run over more candidates verifies only the new ones."""
    db = tmp_path / "resume.duckdb"
    store_indicators(db, tiny.run)
    first = run_verification(str(tiny.folder), db=db, device="cpu", top=5)
    assert len(first) == 5
    con = open_readonly(db)
    stamps = dict(con.execute("SELECT token_id, verified_at FROM glitch_verdicts").fetchall())
    con.close()
    said: list[str] = []
    run_verification(str(tiny.folder), db=db, device="cpu", top=8, progress=said.append)
    assert "8 candidate(s) asked for; 5 already verified (template version 1); 3 to go" in said
    con = open_readonly(db)
    after = dict(con.execute("SELECT token_id, verified_at FROM glitch_verdicts").fetchall())
    con.close()
    assert len(after) == 8 and all(after[k] == v for k, v in stamps.items())


def test_verified_tokens_are_flagged_for_the_playground(tiny) -> None:
    run_verification(str(tiny.folder), db=tiny.db, device="cpu")
    con = open_readonly(tiny.db)
    try:
        tokenizer = con.execute("SELECT tokenizer FROM glitch_models").fetchone()[0]
        assert tokenizer == f"file:{tiny.folder / 'tokenizer.json'}"
        some_held = sorted(tiny.held)[:2]
        got = flags_for(con, tokenizer, [*some_held, tiny.vocab["Input"]])
        assert got == {i: ["under-trained (verified)"] for i in some_held}
    finally:
        con.close()


def test_cli_verify(tiny) -> None:
    out = subprocess.run([sys.executable, "-m", "analysis", "glitch", "verify", "--model", str(tiny.folder),
                          "--device", "cpu", "--top", "3", "--db", str(tiny.db), "--format", "json"],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [r["under_trained"] for r in rows] == [True, True, True]
    assert [r["id"] for r in rows] == tiny.run.frame.sort_values(["score", "id"]).query("candidate")["id"].tolist()[:3]


def test_prompt_ids_put_the_candidate_at_every_placeholder() -> None:
    ids, places = prompt_ids(TEMPLATES[1], lambda text: [len(text)], bos=[7])
    # preamble (one "id": its length), then 17 placeholders back to back; the first is not a prediction target
    assert ids[:2] == [7, len(TEMPLATES[1].preamble)] and ids[2:] == [-1] * 17
    assert places == list(range(3, 19))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cpu_and_cuda_verification_agree(tiny) -> None:
    from analysis.glitch.checks import encode_plain
    from analysis.glitch.probe import model_tokenizer
    from analysis.glitch.verify import load_causal_lm, verify_candidates
    from analysis.glitch.weights import resolve_model

    tok, _ = model_tokenizer(resolve_model(str(tiny.folder)))
    cands = [*sorted(tiny.held)[:8], tiny.vocab["Input"]]

    def probs(device: str) -> np.ndarray:
        dev = torch.device(device)
        model = load_causal_lm(str(tiny.folder), device=dev)
        got = verify_candidates(model, lambda t: encode_plain(tok, [t])[0], cands, device=dev)
        return np.array([v.max_prob for v in got])

    assert np.allclose(probs("cpu"), probs("cuda"), atol=1e-4)


def _remote_code_folder(tiny, tmp_path: Path, model_type: str) -> tuple[Path, Path]:
    """A copy of the tiny model whose config asks for code shipped in the folder; that code would leave a marker."""
    import shutil

    folder = tmp_path / f"remote_{model_type}"
    shutil.copytree(tiny.folder, folder)
    marker = tmp_path / "remote_code_ran"
    (folder / "evil.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type=model_type, auto_map={"AutoConfig": "evil.Config", "AutoModelForCausalLM": "evil.Model"})
    (folder / "config.json").write_text(json.dumps(config))
    return folder, marker


def test_repository_code_is_never_run(tiny, tmp_path: Path) -> None:
    from analysis.glitch import GlitchError
    from analysis.glitch.verify import load_causal_lm

    folder, marker = _remote_code_folder(tiny, tmp_path, "gpt2")
    model = load_causal_lm(str(folder), device=torch.device("cpu"))  # a known architecture: transformers' own class
    assert type(model).__name__ == "GPT2LMHeadModel" and not marker.exists()
    folder, marker = _remote_code_folder(tiny, tmp_path, "evil-architecture")
    with pytest.raises(GlitchError, match="cannot be loaded as a causal language model"):
        load_causal_lm(str(folder), device=torch.device("cpu"))
    assert not marker.exists()
