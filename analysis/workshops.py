"""Workshop presets: a fixed set of tokenizers and texts a teacher hands out as one link, and lessons.

Presets are TOML files in ``assets/workshops/`` (see ``intro.toml``). A text is given inline (``text``) or as a
UDHR reference ``udhr = "LANG:UNIT"`` (e.g. ``"hin:1"`` for Hindi Article 1), resolved from the verified UDHR.

A preset can also hold a **lesson**: an ordered list of ``[[step]]`` tables, each with a title, a text (inline or a
UDHR reference), the tokenizers to show, a question for the room, an optional note and an optional link to another
page (``[step.link]``: ``page`` and ``params``). Participants step through it with ``?workshop=NAME&step=N``.
Lesson content is written once per interface language: any text field is either a string (the same in every
language) or a table ``{en = "...", es = "...", ...}`` that must have ``en``; the interface language
(:func:`analysis.i18n.current_language`) picks the entry, English where a language has none. A ``[review]`` table
names the languages whose wording is a draft awaiting review. docs/lessons.md describes the format.

Example:
    >>> w = load_workshop("intro")
    >>> w.tokenizers
    ['o200k_base', 'llama3', 'gemma3', 'bert-uncased']
    >>> w.texts()["English — Article 1"][:31]
    'All human beings are born free '
    >>> lesson = load_workshop("why-cost")
    >>> len(lesson.steps), lesson.steps[0].text("en")[:31], lesson.steps[0].tokenizers[:2]
    (5, 'All human beings are born free ', ('o200k_base', 'llama3'))
    >>> lesson.steps[1].question("es")[:36]
    '¿Cuántas veces más tokens que en ing'
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .catalogue import load_catalogue
from .config import ASSETS_DIR
from .errors import AnalysisError, WorkshopError
from .i18n import LANGUAGES, N_, current_language

WORKSHOPS_DIR = ASSETS_DIR / "workshops"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_UDHR_REF = re.compile(r"[a-z0-9_]{2,40}:[A-Za-z0-9_.-]{1,20}")
#: Pages a lesson step may link to (the app maps each to its page) and the parameters each one reads.
LINK_PAGES: dict[str, tuple[str, ...]] = {
    "premiums": ("tab", "search", "tokenizers"),
    "token": ("tokenizer", "id"),
    "glitch": (),
    "vocabulary": (),
    "playground": ("tokenizers", "text", "corpus", "lang", "unit"),
}
MAX_STEPS = 50


def pick(value: Mapping[str, str], language: str | None = None) -> str:
    """The entry of a per-language field for ``language`` (the interface language by default), else English.

    >>> pick({"en": "Next", "fr": "Suivant"}, "fr"), pick({"en": "Next"}, "hi")
    ('Suivant', 'Next')
    """
    return value.get(language or current_language()) or value.get("en", "")


@dataclass(frozen=True)
class StepLink:
    """A link from a lesson step to a page of the app, with the query parameters that page reads."""

    page: str
    params: dict[str, str]
    labels: dict[str, str]

    def label(self, language: str | None = None) -> str:
        return pick(self.labels, language)


@dataclass(frozen=True)
class Step:
    """One step of a lesson. Text fields hold one entry per interface language (English always)."""

    titles: dict[str, str]
    questions: dict[str, str]
    tokenizers: tuple[str, ...]
    inline: dict[str, str] = field(default_factory=dict)  # text = ... (per language)
    udhr: dict[str, str] = field(default_factory=dict)  # udhr = "LANG:UNIT" (per language)
    notes: dict[str, str] = field(default_factory=dict)
    link: StepLink | None = None

    def title(self, language: str | None = None) -> str:
        return pick(self.titles, language)

    def question(self, language: str | None = None) -> str:
        return pick(self.questions, language)

    def note(self, language: str | None = None) -> str:
        return pick(self.notes, language) if self.notes else ""

    def udhr_ref(self, language: str | None = None) -> str | None:
        """``"LANG:UNIT"`` where the step's text comes from the UDHR, else None."""
        return pick(self.udhr, language) if self.udhr else None

    def text(self, language: str | None = None) -> str:
        """The text to tokenize (a UDHR reference resolved from the verified UDHR).

        Raises:
            WorkshopError: the UDHR has no such language or unit.
        """
        ref = self.udhr_ref(language)
        if ref is None:
            return pick(self.inline, language)
        from .corpus.udhr import load_udhr

        lang, _, unit = ref.partition(":")
        try:
            units = load_udhr().texts(lang)
        except AnalysisError as e:
            raise WorkshopError(f"The lesson step {self.title('en')!r} names UDHR language {lang!r}, which the UDHR "
                                f"does not have ({e.message}). Fix its udhr = \"LANG:UNIT\" reference.") from e
        if unit not in units:
            raise WorkshopError(f"The UDHR has no unit {unit!r} for {lang!r} (lesson step {self.title('en')!r}). "
                                "Fix its udhr = \"LANG:UNIT\" reference (units: 0 for the preamble, 1-30 articles).")
        return units[unit]


@dataclass(frozen=True)
class Workshop:
    name: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    tokenizers: list[str]
    entries: list[dict[str, str]]  # each: label + text or udhr
    steps: tuple[Step, ...] = ()
    review_languages: tuple[str, ...] = ()  # languages whose lesson wording is a draft awaiting review
    review_note: str = ""

    @property
    def title(self) -> str:
        return pick(self.titles)

    @property
    def description(self) -> str:
        return pick(self.descriptions)

    @property
    def is_lesson(self) -> bool:
        return bool(self.steps)

    def texts(self) -> dict[str, str]:
        """Label -> text of the ``[[text]]`` entries, in the preset's order (UDHR references resolved)."""
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


def _localized(value: object, where: str, *, required: bool = True) -> dict[str, str]:
    """A per-language field as ``{language: text}``: a string stands for every language; a table needs ``en``."""
    if value is None:
        if required:
            raise WorkshopError(f"{where} is missing: add it as a string, or as a table with one entry per language "
                                f"({', '.join(LANGUAGES)}; en is required).")
        return {}
    if isinstance(value, str):
        if required and not value.strip():
            raise WorkshopError(f"{where} is empty: write its text.")
        return {"en": value}
    if not isinstance(value, dict):
        raise WorkshopError(f"{where} must be a string or a table of languages ({', '.join(LANGUAGES)}), "
                            f"not {type(value).__name__}.")
    unknown = sorted(set(value) - set(LANGUAGES))
    if unknown:
        raise WorkshopError(f"{where} has entries for unknown languages {', '.join(map(repr, unknown))}: use "
                            f"{', '.join(LANGUAGES)}.")
    bad = [k for k, v in value.items() if not isinstance(v, str) or not v.strip()]
    if bad:
        raise WorkshopError(f"{where}: the {', '.join(bad)} entry must be non-empty text.")
    if "en" not in value:
        raise WorkshopError(f"{where} has no English (en) entry: add one; it is shown where a language has none.")
    return dict(value)


def _tokenizer_list(value: object, where: str, known: set[str]) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(t, str) for t in value):
        raise WorkshopError(f"{where}: 'tokenizers' must be a non-empty list of catalogue ids, e.g. "
                            "[\"o200k_base\", \"llama3\"].")
    unknown = [t for t in value if t not in known]
    if unknown:
        raise WorkshopError(f"{where}: 'tokenizers' must list catalogue ids; unknown: {', '.join(unknown)}. "
                            "The Tokenizers page lists the ids.")
    return list(dict.fromkeys(value))


def _step(raw: object, k: int, path: Path, default_tokenizers: list[str], known: set[str]) -> Step:
    where = f"{path.name}: step {k}"
    if not isinstance(raw, dict):
        raise WorkshopError(f"{where} must be a [[step]] table.")
    extra = sorted(set(raw) - {"title", "text", "udhr", "tokenizers", "question", "note", "link"})
    if extra:
        raise WorkshopError(f"{where} has unknown field(s) {', '.join(extra)}: a step has title, text or udhr, "
                            "tokenizers, question, note and link.")
    if ("text" in raw) == ("udhr" in raw):
        raise WorkshopError(f"{where} needs exactly one of text = \"...\" or udhr = \"LANG:UNIT\".")
    udhr = _localized(raw["udhr"], f"{where}, udhr") if "udhr" in raw else {}
    bad = [ref for ref in udhr.values() if not _UDHR_REF.fullmatch(ref)]
    if bad:
        raise WorkshopError(f"{where}: udhr {bad[0]!r} is not a LANG:UNIT reference such as \"hin:1\".")
    tokenizers = (_tokenizer_list(raw["tokenizers"], where, known) if "tokenizers" in raw else default_tokenizers)
    return Step(titles=_localized(raw.get("title"), f"{where}, title"),
                questions=_localized(raw.get("question"), f"{where}, question"),
                tokenizers=tuple(tokenizers),
                inline=_localized(raw["text"], f"{where}, text") if "text" in raw else {},
                udhr=udhr, notes=_localized(raw.get("note"), f"{where}, note", required=False),
                link=_link(raw.get("link"), where))


def _link(raw: object, where: str) -> StepLink | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("page") not in LINK_PAGES:
        raise WorkshopError(f"{where}: link.page must be one of {', '.join(LINK_PAGES)}.")
    params = raw.get("params", {})
    allowed = LINK_PAGES[raw["page"]]
    if not isinstance(params, dict) or not all(isinstance(v, str | int) for v in params.values()):
        raise WorkshopError(f"{where}: link.params must be a table of text values, e.g. {{ tab = \"Dots\" }}.")
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise WorkshopError(f"{where}: the {raw['page']} page does not read {', '.join(unknown)}; it reads "
                            f"{', '.join(allowed) or 'no parameters'}.")
    return StepLink(raw["page"], {k: str(v) for k, v in params.items()},
                    _localized(raw.get("label"), f"{where}, link.label"))


def load_workshop(name: str, folder: Path = WORKSHOPS_DIR) -> Workshop:
    """Read and check one preset.

    Raises:
        WorkshopError: unknown name (listing the available ones), malformed file, unknown tokenizer, entry or
        lesson field (the message names the file, the step and what to write instead).
    """
    if not _NAME.fullmatch(name) or not (folder / f"{name}.toml").is_file():
        raise WorkshopError(N_("No workshop preset {name!r}. Available: {available}."), name=name[:40],
                            available=", ".join(available_workshops(folder)) or "none")
    path = folder / f"{name}.toml"
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise WorkshopError(f"{path} is not valid TOML: {e}.") from None
    known = set(load_catalogue().ids)
    tokenizers = doc.get("tokenizers", [])
    unknown = [t for t in tokenizers if t not in known] if isinstance(tokenizers, list) else []
    if not tokenizers or unknown or not isinstance(tokenizers, list):
        raise WorkshopError(f"{path}: 'tokenizers' must list catalogue ids; unknown: {', '.join(unknown) or '(empty list)'}.")
    entries = doc.get("text", [])
    for k, e in enumerate(entries, start=1):
        if "label" not in e or ("text" in e) == ("udhr" in e):
            raise WorkshopError(f"{path}: text #{k} needs a label and exactly one of text = \"...\" or udhr = \"LANG:UNIT\".")
    raw_steps = doc.get("step", [])
    if not isinstance(raw_steps, list):
        raise WorkshopError(f"{path}: write each lesson step as a [[step]] table.")
    if len(raw_steps) > MAX_STEPS:
        raise WorkshopError(f"{path}: a lesson has at most {MAX_STEPS} steps; this one has {len(raw_steps)}. "
                            "Split it into two presets.")
    steps = tuple(_step(raw, k, path, list(tokenizers), known) for k, raw in enumerate(raw_steps, start=1))
    if not entries and not steps:
        raise WorkshopError(f"{path}: add at least one [[text]] entry or a lesson of [[step]] tables.")
    review = doc.get("review", {})
    review_languages = review.get("languages", []) if isinstance(review, dict) else None
    if review_languages is None or not set(review_languages) <= set(LANGUAGES):
        raise WorkshopError(f"{path}: [review] languages must list interface languages ({', '.join(LANGUAGES)}).")
    return Workshop(name, _localized(doc.get("title", name), f"{path.name}: title"),
                    _localized(doc.get("description", ""), f"{path.name}: description", required=False),
                    list(tokenizers), [dict(e) for e in entries], steps, tuple(review_languages),
                    str(review.get("note", "")))
