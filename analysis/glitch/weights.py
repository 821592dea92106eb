"""Where a model's files are, and reading only its embedding and unembedding tensors from safetensors.

A model is a local folder (``config.json``, ``tokenizer.json`` or ``tokenizer.model``, ``model.safetensors`` or
shards listed in ``model.safetensors.index.json``) or a Hugging Face repo (``hf:ORG/NAME[@REVISION]``), of which
only the config, the tokenizer, the index and the shards holding the two tensors are downloaded.
Tensors are opened with ``safetensors.safe_open``, which maps the file: nothing else of the model is read.

Example:
    >>> from analysis.assets import asset_path
    >>> from analysis.catalogue import load_catalogue
    >>> files = resolve_model(str(asset_path(load_catalogue().files["minilm/model.safetensors"]).parent))
    >>> files.embedding_name, files.unembedding_name
    ('embeddings.word_embeddings.weight', None)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from analysis.i18n import N_

from .categories import GlitchError

#: Input-embedding tensor names by architecture, in order of preference (matched as name suffixes).
EMBEDDING_SUFFIXES = ("embed_tokens.weight", "word_embeddings.weight", "wte.weight", "tok_embeddings.weight",
                      "embed_in.weight", "token_embedding.weight", "shared.weight")
#: Unembedding (LM head) tensor names; a model without one ties it to the input embedding.
UNEMBEDDING_SUFFIXES = ("lm_head.weight", "embed_out.weight")
UNEMBEDDING_EXACT = ("output.weight",)
_HF_SPEC = re.compile(r"^(?:hf:)?([A-Za-z0-9][\w.-]*/[\w.-]+)(?:@([\w./-]+))?$")


@dataclass
class ModelFiles:
    """A model's config, tokenizer file and the safetensors file holding each tensor."""

    spec: str
    model_id: str  # how results are keyed: the folder's absolute path, or hf:ORG/NAME[@REV]
    config: dict
    tokenizer_path: Path
    weight_map: dict[str, str]  # tensor name -> file name (relative to the model)
    fetch: Callable[[str], Path] = field(repr=False)  # file name -> local path (downloads a hub shard on first use)
    embedding_name: str = ""
    unembedding_name: str | None = None

    @property
    def tied(self) -> bool:
        return self.unembedding_name is None

    def tokenizer_sha256(self) -> str:
        return hashlib.sha256(self.tokenizer_path.read_bytes()).hexdigest()


def _local(folder: Path, spec: str) -> ModelFiles:
    def fetch(name: str) -> Path:
        return folder / name

    config = json.loads((folder / "config.json").read_text()) if (folder / "config.json").is_file() else {}
    tokenizer = next((folder / n for n in ("tokenizer.json", "tokenizer.model") if (folder / n).is_file()), None)
    if tokenizer is None:
        raise GlitchError(f"{folder} has no tokenizer.json or tokenizer.model; the model's tokenizer is needed to tell "
                          "which token each row is. Copy it into the folder.", title=N_("Model tokenizer missing"))
    return ModelFiles(spec, str(folder.resolve()), config, tokenizer, _weight_map(folder, fetch), fetch)


def _weight_map(folder: Path | None, fetch: Callable[[str], Path]) -> dict[str, str]:
    """Tensor name -> file, from ``model.safetensors.index.json`` or the single ``model.safetensors``'s header."""
    from safetensors import safe_open

    for index_name in ("model.safetensors.index.json",):
        try:
            index_path = fetch(index_name)
        except FileNotFoundError:
            index_path = None
        if index_path is not None and index_path.is_file():
            try:
                return dict(json.loads(index_path.read_text())["weight_map"])
            except (ValueError, KeyError) as e:
                raise GlitchError(f"{index_path} is not a safetensors index (no weight_map): {e!r}.") from e
    try:
        single = fetch("model.safetensors")
    except FileNotFoundError:
        single = None
    if single is None or not single.is_file():
        where = folder or "the repo"
        raise GlitchError(f"No model.safetensors or model.safetensors.index.json in {where}. Only safetensors weights "
                          "are read (never pickled .bin files); convert the model to safetensors first.",
                          title=N_("No safetensors weights"))
    try:
        with safe_open(str(single), framework="pt") as f:
            return dict.fromkeys(f.keys(), "model.safetensors")
    except Exception as e:  # safetensors raises SafetensorError (not importable as a stable name) for bad headers
        raise GlitchError(f"{single} is not a readable safetensors file ({e}).", title=N_("Unreadable weights")) from e


def _hub(repo: str, revision: str | None, spec: str) -> ModelFiles:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, LocalEntryNotFoundError

    token = os.environ.get("HF_TOKEN") or None

    def fetch(name: str) -> Path:
        try:
            return Path(hf_hub_download(repo, name, revision=revision, token=token))
        except (EntryNotFoundError, LocalEntryNotFoundError) as e:
            raise FileNotFoundError(name) from e
        except (HfHubHTTPError, OSError, ValueError) as e:
            raise GlitchError(f"Cannot download {name} of {repo!r}: {e}. Check the repo id; for a gated repo set "
                              "HF_TOKEN; offline, pre-fill the hub cache and set HF_HUB_OFFLINE=1.",
                              title=N_("Model download failed")) from e

    try:
        config = json.loads(fetch("config.json").read_text())
    except FileNotFoundError:
        config = {}
    tokenizer = None
    for name in ("tokenizer.json", "tokenizer.model"):
        try:
            tokenizer = fetch(name)
            break
        except FileNotFoundError:
            continue
    if tokenizer is None:
        raise GlitchError(f"{repo!r} has neither tokenizer.json nor tokenizer.model (or they are not in the local hub "
                          "cache while HF_HUB_OFFLINE is set).", title=N_("Model tokenizer missing"))
    model_id = f"hf:{repo}@{revision}" if revision else f"hf:{repo}"
    return ModelFiles(spec, model_id, config, tokenizer, _weight_map(None, fetch), fetch)


def resolve_model(spec: str, *, embedding: str | None = None, unembedding: str | None = None) -> ModelFiles:
    """Find a model's files and its embedding / unembedding tensor names.

    Args:
        spec: a local folder, or ``hf:ORG/NAME[@REVISION]`` (``ORG/NAME`` also works when no such folder exists).
        embedding, unembedding: tensor names, when the defaults (:data:`EMBEDDING_SUFFIXES`,
            :data:`UNEMBEDDING_SUFFIXES`) do not find them; ``unembedding="tied"`` forces the input embedding.

    Raises:
        GlitchError: no such folder or repo, no safetensors weights, no tokenizer, no embedding tensor.
    """
    path = Path(spec).expanduser()
    if path.is_dir():
        files = _local(path, spec)
    elif m := _HF_SPEC.match(spec):
        if spec.startswith("hf:") or not path.exists():
            files = _hub(m.group(1), m.group(2), spec)
        else:
            raise GlitchError(f"{spec} is a file, not a model folder.", title=N_("Not a model folder"))
    else:
        raise GlitchError(f"No model folder {path}. Give a folder holding config.json, the tokenizer and *.safetensors, "
                          "or a Hugging Face repo as hf:ORG/NAME[@REVISION].", title=N_("Model not found"))
    names = list(files.weight_map)
    files.embedding_name = embedding or _pick(names, EMBEDDING_SUFFIXES, ())
    if not files.embedding_name or files.embedding_name not in files.weight_map:
        raise GlitchError(
            f"No input-embedding tensor {'named ' + repr(embedding) if embedding else 'found'} in {files.model_id} "
            f"(looked for names ending in {', '.join(EMBEDDING_SUFFIXES)}). Pass its name with --embedding-tensor; "
            f"the tensors are: {', '.join(names[:12])}{', ...' if len(names) > 12 else ''}.",
            title=N_("No embedding tensor"))
    if unembedding == "tied":
        files.unembedding_name = None
    else:
        files.unembedding_name = unembedding or _pick(names, UNEMBEDDING_SUFFIXES, UNEMBEDDING_EXACT) or None
        if files.unembedding_name is not None and files.unembedding_name not in files.weight_map:
            raise GlitchError(f"No tensor {files.unembedding_name!r} in {files.model_id}.", title=N_("No unembedding tensor"))
    return files


def _pick(names: list[str], suffixes: tuple[str, ...], exact: tuple[str, ...]) -> str:
    for suffix in suffixes:
        found = sorted((n for n in names if n == suffix or n.endswith("." + suffix)), key=len)
        if found:
            return found[0]
    return next((n for n in names if n in exact), "")


def open_tensor(files: ModelFiles, name: str):
    """The tensor ``name`` as a torch tensor backed by the mapped file (pages are read when first touched)."""
    from safetensors import safe_open

    path = files.fetch(files.weight_map[name])
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            tensor = f.get_tensor(name)
    except Exception as e:  # SafetensorError for a truncated or corrupted file
        raise GlitchError(f"Cannot read tensor {name!r} from {path}: {e}. Check that the file is complete.",
                          title=N_("Unreadable weights")) from e
    if tensor.ndim != 2:
        raise GlitchError(f"Tensor {name!r} has shape {tuple(tensor.shape)}; an embedding is a 2-D (tokens x dim) "
                          "matrix. Pass the right name with --embedding-tensor / --unembedding-tensor.")
    return tensor
