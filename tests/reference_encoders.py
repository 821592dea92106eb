"""The packages' own encoders for the vocabularies our backends rebuild, loaded from the verified asset cache.

- Whisper: ``whisper/tokenizer.py`` of openai-whisper 20250625, loaded by file path (it imports only tiktoken, so
  neither torch nor the rest of whisper is needed); its ``get_encoding`` reads the ``assets/`` next to it.
- Llama 1/2: llama-tokenizer-js 1.2.2's own ``encode``, run with node (``llama_js_encode.mjs``).
- Jurassic-2: ``JurassicTokenizer`` of ai21-tokenizer 1.0.0 (requirements-dev.txt), the last release with the
  encoder, over the catalogue's model and config from ai21-tokenizer 1.1.0 (the same model file).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from analysis import load_catalogue
from analysis.assets import require_asset

_CAT = load_catalogue()
NODE_HELPER = Path(__file__).with_name("llama_js_encode.mjs")


def cached(path: str) -> Path:
    """The verified cache path of a catalogue file."""
    return require_asset(_CAT.files[path])


@lru_cache(maxsize=1)
def whisper_module():
    """openai-whisper's ``whisper/tokenizer.py``, imported by path from the cache (not installed)."""
    path = cached("openai/whisper/tokenizer.py")
    for name in ("multilingual", "gpt2"):
        cached(f"openai/whisper/assets/{name}.tiktoken")  # get_encoding reads them from next to the module
    spec = importlib.util.spec_from_file_location("atlas_whisper_tokenizer_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def llama_js_encode(texts: list[str], *, run_package_tests: bool = False) -> list[list[int]]:
    """llama-tokenizer-js's ids for each text (``encode(text, false, true)``: no BOS, with the dummy-prefix space)."""
    node = shutil.which("node")
    assert node, "node is needed to run llama-tokenizer-js (Debian: apt-get install nodejs)"
    cmd = [node, str(NODE_HELPER), str(cached("meta/llama-tokenizer-js/llama-tokenizer.js"))]
    if run_package_tests:
        cmd.append("--run-tests")
    proc = subprocess.run(cmd, input=json.dumps(texts), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    if run_package_tests:
        assert "LLaMA Tokenizer tests passed successfully." in proc.stderr, proc.stderr[-2000:]
    return json.loads(proc.stdout)


@lru_cache(maxsize=1)
def ai21_jurassic():
    """AI21's own Jurassic-2 encoder over the catalogue's model and config."""
    from ai21_tokenizer.jurassic_tokenizer import JurassicTokenizer

    config = json.loads(cached("ai21/j2-tokenizer/config.json").read_text(encoding="utf-8"))
    return JurassicTokenizer(model_path=cached("ai21/j2-tokenizer/j2-tokenizer.model"), config=config)
