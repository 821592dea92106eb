"""Which language and script a pasted text is in, and which language of a stored corpus that is.

Language identification is py3langid (langid.py's model, offline, ~150 languages, ISO 639 codes); the
script is the text's dominant Unicode script (:mod:`analysis.scripts`). Matching to a corpus prefers a
variant in the same script, complete, whose BCP 47 tag is exactly the detected code.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from analysis.i18n import format_number, format_percent
from analysis.i18n import gettext as _

from .scripts import script_votes

#: Codes py3langid uses where corpora use another tag for the same language.
ALIASES = {"no": "nb"}
#: Below this many letters the guess is too unreliable to show.
MIN_CHARS = 12
#: A guess below this probability is reported as uncertain and not linked to a corpus language.
MIN_PROBABILITY = 0.5
#: Below this share of its letters in one script, a text is "mixed": no single language is guessed.
MIN_SCRIPT_SHARE = 0.75

_lock = threading.Lock()
_identifier = None


def _model():
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


@dataclass(frozen=True)
class Detection:
    """A language guess: ISO 639 code (as py3langid labels it), its probability, and the dominant script."""

    code: str | None
    probability: float
    script: str | None
    note: str | None = None  # why there is no guess


def detect(text: str) -> Detection:
    """Guess the language and script of ``text``.

    >>> d = detect("Toute personne a droit à l'éducation.")
    >>> d.code, d.script
    ('fr', 'Latn')
    """
    votes = script_votes(text)
    script = votes.most_common(1)[0][0] if votes else None
    letters = sum(ch.isalpha() for ch in text)
    if letters < MIN_CHARS:
        return Detection(None, 0.0, script, _("too short to guess the language (fewer than {n} letters)").format(
            n=format_number(MIN_CHARS)))
    share = votes[script] / sum(votes.values())
    if share < MIN_SCRIPT_SHARE:
        mix = ", ".join(f"{s} {format_percent(n / sum(votes.values()))}" for s, n in votes.most_common(4))
        return Detection(None, 0.0, script, _("mixed scripts ({mix}): paste one language at a time to link it to the "
                                              "store").format(mix=mix))
    code, prob = _model().classify(text)
    if prob < MIN_PROBABILITY:
        return Detection(None, float(prob), script, _("uncertain (best guess {code}, {p}); mixed or short text?").format(
            code=code, p=format_percent(prob)))
    return Detection(code, float(prob), script)


def match_language(detection: Detection, languages: Iterable[Mapping[str, object]]) -> Mapping[str, object] | None:
    """The corpus language (a row with lang, bcp47, iso639_3, script, complete) that best fits a detection.

    >>> rows = [{"lang": "cmn_hant", "bcp47": "zh-Hant", "iso639_3": "cmn", "script": "Hani", "complete": True},
    ...         {"lang": "cmn_hans", "bcp47": "zh", "iso639_3": "cmn", "script": "Hani", "complete": True}]
    >>> match_language(Detection("zh", 1.0, "Hani"), rows)["lang"]
    'cmn_hans'
    """
    if detection.code is None:
        return None
    code = ALIASES.get(detection.code, detection.code)
    candidates = [r for r in languages
                  if (str(r.get("bcp47") or "").split("-")[0] == code or r.get("iso639_3") == code or r.get("lang") == code)
                  and (detection.script is None or r.get("script") in (None, detection.script))]
    if not candidates:
        return None

    def rank(r: Mapping[str, object]) -> tuple:
        lang = str(r["lang"])
        return (not r.get("complete"),
                r.get("bcp47") != code, lang != r.get("iso639_3"), len(lang), lang)

    return min(candidates, key=rank)
