"""Workshop presets: a fixed set of tokenizers and texts a teacher hands out as one link.

Presets are TOML files in ``assets/workshops/`` (see ``intro.toml``). A text is given inline (``text``) or as a
UDHR reference ``udhr = "LANG:UNIT"`` (e.g. ``"hin:1"`` for Hindi Article 1), resolved from the verified UDHR.

Example:
    >>> w = load_workshop("intro")
    >>> w.tokenizers
    ['o200k_base', 'llama3', 'gemma3', 'bert-uncased']
    >>> w.texts()["English — Article 1"][:31]
    'All human beings are born free '
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .catalogue import load_catalogue
from .config import ASSETS_DIR
from .errors import AnalysisError

WORKSHOPS_DIR = ASSETS_DIR / "workshops"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


class WorkshopError(AnalysisError):
    title = "Workshop preset problem"


@dataclass(frozen=True)
class Workshop:
    name: str
    title: str
    description: str
    tokenizers: list[str]
    entries: list[dict[str, str]]  # each: label + text or udhr

    def texts(self) -> dict[str, str]:
        """Label -> text, in the preset's order (UDHR references resolved)."""
        out = {}
        for e in self.entries:
            if "text" in e:
                out[e["label"]] = e["text"]
                continue
            from .corpus.udhr import load_udhr

            lang, _, unit = e["udhr"].partition(":")
            units = load_udhr().texts(lang)
            if unit not in units:
                raise WorkshopError(f"Workshop {self.name!r}: the UDHR has no unit {unit!r} for {lang!r} "
                                    f"(text {e['label']!r}). Fix {WORKSHOPS_DIR / (self.name + '.toml')}.")
            out[e["label"]] = units[unit]
        return out


def available_workshops(folder: Path = WORKSHOPS_DIR) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.toml"))


def load_workshop(name: str, folder: Path = WORKSHOPS_DIR) -> Workshop:
    """Read and check one preset.

    Raises:
        WorkshopError: unknown name (listing the available ones), malformed file, unknown tokenizer or entry.
    """
    if not _NAME.fullmatch(name) or not (folder / f"{name}.toml").is_file():
        raise WorkshopError(f"No workshop preset {name[:40]!r}. Available: {', '.join(available_workshops(folder)) or 'none'}.")
    path = folder / f"{name}.toml"
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise WorkshopError(f"{path} is not valid TOML: {e}.") from None
    known = set(load_catalogue().ids)
    tokenizers = doc.get("tokenizers", [])
    unknown = [t for t in tokenizers if t not in known]
    if not tokenizers or unknown:
        raise WorkshopError(f"{path}: 'tokenizers' must list catalogue ids; unknown: {', '.join(unknown) or '(empty list)'}.")
    entries = doc.get("text", [])
    for k, e in enumerate(entries, start=1):
        if "label" not in e or ("text" in e) == ("udhr" in e):
            raise WorkshopError(f"{path}: text #{k} needs a label and exactly one of text = \"...\" or udhr = \"LANG:UNIT\".")
    if not entries:
        raise WorkshopError(f"{path}: add at least one [[text]] entry.")
    return Workshop(name, doc.get("title", name), doc.get("description", ""), list(tokenizers),
                    [dict(e) for e in entries])
