"""The published FLORES-200 token counts of Petrov et al. (2023), and how a corpus counted here compares with them.

The table ships in ``assets/published/petrov2023/`` (numbers only, with the citation; see its README), each file
checked by sha256 before it is read. Their columns map to catalogue ids (:data:`COLUMNS`); a column whose id the
catalogue lacks is left out, so LLAMA joins the comparison by itself once the catalogue has ``llama2``. Their
language names map to FLORES-200 codes through their own ``flores_language_map.csv``; FLORES codes are the language
codes of an imported FLORES-200 corpus (``eng_Latn``), so no further mapping is needed.

A published premium is a row's count over the English row's count in the same column.

Example:
    >>> pub = published_premiums(columns={"UTF-32": "codepoints"})
    >>> row = pub.set_index("lang").loc["eng_Latn"]
    >>> int(row["tokens"]), float(row["premium"])
    (259170, 1.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .config import ASSETS_DIR
from .errors import PublishedTableError
from .i18n import N_

PUBLISHED_DIR = ASSETS_DIR / "published" / "petrov2023"
#: The shipped files and their sha256 (the copies of the repository's files at commit 365c3f8).
FILES = {
    "tokenization_lengths.csv": "68ef66ea899d5f500ca2d1260a4f158ad8fdf8a18a36ce590d83828e8fc62dcc",
    "tokenization_unknown_fraction.csv": "bf2db32e9519d5b384c6990830b75725b06430e181956494b2886d33e01eb70e",
    "flores_language_map.csv": "d32106771bedb7e37bf104238e984cd9293d3c60c14684f8f069332f5cf99cfc",
}
CITATION = ("Petrov, La Malfa, Torr, Bibi: Language Model Tokenizers Introduce Unfairness Between Languages, "
            "NeurIPS 2023. Table: AleksandarPetrov/tokenization-fairness, assets/, commit 365c3f8.")
#: Their reference row and its FLORES-200 code.
REFERENCE_LANGUAGE = "English"
REFERENCE_CODE = "eng_Latn"
#: Their column -> the catalogue id of the same tokenizer. GPT-2 is tiktoken's ``gpt2`` encoding, the r50k_base
#: vocabulary; ByT5 counts UTF-8 bytes and UTF-32 code points; LLAMA is meta-llama/Llama-2-7b-chat-hf.
COLUMNS = {"r50k_base": "r50k_base", "p50k_base": "p50k_base", "cl100k_base": "cl100k_base", "GPT-2": "r50k_base",
           "ByT5": "utf8-bytes", "UTF-32": "codepoints", "LLAMA": "llama2"}
#: The columns of :func:`compare`'s result.
COMPARISON_COLUMNS = ["column", "tokenizer", "lang", "language", "published_tokens", "our_tokens",
                      "published_premium", "our_premium", "difference", "same_tokens", "same_to_4_decimals"]


def published_file(name: str) -> Path:
    """The path of one shipped file, after its sha256 check.

    Raises:
        PublishedTableError: an unknown name, a missing file, or a file whose sha256 is not the recorded one.
    """
    from .assets import sha256_file

    if name not in FILES:
        raise PublishedTableError(N_("No published file {name!r}; the shipped ones are: {files}."), name=name,
                                  files=", ".join(FILES))
    path = PUBLISHED_DIR / name
    restore = f"Restore it with `git checkout -- {path.relative_to(ASSETS_DIR.parent)}`."
    if not path.is_file():
        raise PublishedTableError(N_("{path} is missing. Restore it with `git checkout -- {file}`."), path=path,
                                  file=path.relative_to(ASSETS_DIR.parent))
    got = sha256_file(path)
    if got != FILES[name]:
        raise PublishedTableError(f"{path} has sha256 {got}, not the published file's {FILES[name]}: it was changed. "
                                  f"{restore}")
    return path


@lru_cache(maxsize=1)
def _tables() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    lengths = pd.read_csv(published_file("tokenization_lengths.csv"), index_col="Language")
    unknown = pd.read_csv(published_file("tokenization_unknown_fraction.csv"), index_col="Language")
    codes = pd.read_csv(published_file("flores_language_map.csv"), skipinitialspace=True)
    mapping = dict(zip(codes["Language"].str.strip(), codes["FLORES-200 code"].str.strip(), strict=True))
    return lengths, unknown, mapping


def published_counts() -> pd.DataFrame:
    """Every published cell as a row: ``column, language, lang`` (FLORES-200 code), ``tokens``, ``unk_fraction``.

    >>> df = published_counts()
    >>> len(df), df["column"].nunique(), df["lang"].nunique()
    (5508, 27, 204)
    """
    lengths, unknown, mapping = _tables()
    long = lengths.reset_index().melt(id_vars="Language", var_name="column", value_name="tokens")
    unk = unknown.reset_index().melt(id_vars="Language", var_name="column", value_name="unk_fraction")
    df = long.merge(unk, on=["Language", "column"], how="left").rename(columns={"Language": "language"})
    df["lang"] = df["language"].map(mapping)
    return df[["column", "language", "lang", "tokens", "unk_fraction"]]


def shared_columns(catalogue_ids: Iterable[str] | None = None) -> dict[str, str]:
    """Their columns whose tokenizer the catalogue has (default: this checkout's catalogue), column -> id.

    >>> shared_columns(["r50k_base", "utf8-bytes"])
    {'r50k_base': 'r50k_base', 'GPT-2': 'r50k_base', 'ByT5': 'utf8-bytes'}
    """
    if catalogue_ids is None:
        from .catalogue import load_catalogue

        catalogue_ids = load_catalogue().ids
    have = set(catalogue_ids)
    return {col: tid for col, tid in COLUMNS.items() if tid in have}


def published_premiums(columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Published counts and premiums against English for the given columns (default: :func:`shared_columns`).

    Columns: ``column, tokenizer`` (catalogue id), ``lang, language, tokens, reference_tokens, premium``.
    """
    columns = dict(shared_columns() if columns is None else columns)
    df = published_counts()
    df = df[df["column"].isin(list(columns))].copy()
    ref = df[df["language"] == REFERENCE_LANGUAGE].set_index("column")["tokens"]
    df["tokenizer"] = df["column"].map(columns)
    df["reference_tokens"] = df["column"].map(ref)
    df["premium"] = df["tokens"] / df["reference_tokens"]
    return df[["column", "tokenizer", "lang", "language", "tokens", "reference_tokens", "premium"]].reset_index(
        drop=True)


#: Headers of :func:`compare`'s columns (msgids, translated where shown; the frame keeps these keys).
COMPARE_HEADERS = {"column": N_("published column"), "tokenizer": N_("tokenizer"), "lang": N_("code"),
                   "language": N_("language"), "published_tokens": N_("published tokens"),
                   "our_tokens": N_("our tokens"), "published_premium": N_("published premium"),
                   "our_premium": N_("our premium"), "difference": N_("difference"),
                   "same_tokens": N_("same token count"), "same_to_4_decimals": N_("same to 4 decimals")}


def compare(published: pd.DataFrame, ours: pd.DataFrame) -> pd.DataFrame:
    """Published vs ours, one row per (their column, language) both sides have.

    Args:
        published: :func:`published_premiums` rows.
        ours: ``tokenizer, lang, tokens, premium`` of a corpus counted with the petrov2023 protocol, premiums
            against ``eng_Latn``.

    Returns:
        :data:`COMPARISON_COLUMNS`: their value and ours, ``difference`` = ours − published, and whether the counts
        are equal and the premiums equal when rounded to 4 decimals. Sorted by column order, then language name.

    >>> pub = pd.DataFrame({"column": ["UTF-32"], "tokenizer": ["codepoints"], "lang": ["fra_Latn"],
    ...                     "language": ["French"], "tokens": [30], "reference_tokens": [20], "premium": [1.5]})
    >>> ours = pd.DataFrame({"tokenizer": ["codepoints"], "lang": ["fra_Latn"], "tokens": [31], "premium": [1.55]})
    >>> row = compare(pub, ours).iloc[0]
    >>> round(float(row["difference"]), 12), bool(row["same_tokens"]), bool(row["same_to_4_decimals"])
    (0.05, False, False)
    """
    merged = published.merge(ours[["tokenizer", "lang", "tokens", "premium"]], on=["tokenizer", "lang"],
                             suffixes=("_published", "_ours"))
    out = pd.DataFrame({
        "column": merged["column"], "tokenizer": merged["tokenizer"], "lang": merged["lang"],
        "language": merged["language"], "published_tokens": merged["tokens_published"].astype("int64"),
        "our_tokens": merged["tokens_ours"].astype("int64"), "published_premium": merged["premium_published"],
        "our_premium": merged["premium_ours"],
    })
    out["difference"] = out["our_premium"] - out["published_premium"]
    out["same_tokens"] = out["published_tokens"] == out["our_tokens"]
    out["same_to_4_decimals"] = out["our_premium"].round(4) == out["published_premium"].round(4)
    rank = {c: i for i, c in enumerate(COLUMNS)}
    out = out.assign(_r=out["column"].map(rank)).sort_values(["_r", "language"]).drop(columns="_r")
    return out[COMPARISON_COLUMNS].reset_index(drop=True)
