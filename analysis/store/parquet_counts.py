"""Counts as a partitioned Parquet dataset: one file per (dataset, corpus, tokenizer, shard), written atomically.

Layout under a root folder (default ``<db>.parts`` beside the database; any URL that pyarrow and DuckDB both read,
such as ``s3://bucket/prefix``, works the same way)::

    <root>/counts/corpus=<c>/tokenizer=<t>/version=<v>/part-00003.parquet       parallel corpora: per unit
    <root>/mono_text/corpus=<c>/version=<v>/part-00003.parquet                  monolingual: per shard, text totals
    <root>/mono_counts/corpus=<c>/tokenizer=<t>/version=<v>/part-00003.parquet  monolingual: per shard, token totals

Partition values are percent-escaped (``a/b`` -> ``a%2Fb``); DuckDB's hive partitioning decodes them. ``version``
is a hash of everything the counts depend on (corpus content, tokenizer vocabulary, normalization, shard plan,
the format below), so files from an older corpus or vocabulary are never read as current ones.

A file appears under its final name only once complete: it is written to a temporary name in the same folder and
renamed (``os.replace``, atomic on one file system); on an object store a single PUT is atomic by itself. A task
retried after its worker died therefore writes the same file again instead of adding rows, and a build that resumes
after an interruption skips every partition that already exists.

Example:
    >>> partition_dir("/p", "counts", corpus="udhr", tokenizer="o200k_base", version="ab12")
    '/p/counts/corpus=udhr/tokenizer=o200k_base/version=ab12'
"""

from __future__ import annotations

import hashlib
import os
import signal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from ..fsio import atomic_write

if TYPE_CHECKING:
    import pyarrow as pa

FORMAT = "token-atlas parts v1"
DATASETS = ("counts", "mono_text", "mono_counts")
#: Test hook: the path of an "armed" file. The first task to rename it away kills its own worker process
#: (SIGKILL) after writing its partition's temporary file and before the rename, as a crash would.
KILL_ONCE_ENV = "ATLAS_TEST_KILL_WORKER_ONCE"


def version_key(*parts: object) -> str:
    """A 16-hex-digit hash of the values the counts depend on (plus the format of these files).

    >>> version_key("corpus-sha", "vocab-sha", "none", 2000)
    '15edde05f48be698'
    """
    h = hashlib.sha256(FORMAT.encode())
    for p in parts:
        h.update(b"\x00" + str(p).encode())
    return h.hexdigest()[:16]


def is_url(root: str) -> bool:
    return "://" in root and not root.startswith("file://")


def partition_dir(root: str, dataset: str, *, corpus: str, version: str, tokenizer: str | None = None) -> str:
    """The folder of one (dataset, corpus[, tokenizer], version)."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, not {dataset!r}")
    parts = [root.rstrip("/"), dataset, f"corpus={quote(corpus, safe='')}"]
    if tokenizer is not None:
        parts.append(f"tokenizer={quote(tokenizer, safe='')}")
    parts.append(f"version={version}")
    return "/".join(parts)


def partition_path(directory: str, shard: int) -> str:
    return f"{directory}/part-{shard:05d}.parquet"


def glob(directory: str) -> str:
    """What DuckDB's ``read_parquet`` reads for one folder: its finished partitions (temporary files excluded)."""
    return f"{directory}/part-*.parquet"


def _filesystem(path: str):
    from pyarrow import fs

    if is_url(path):
        return fs.FileSystem.from_uri(path)
    return fs.LocalFileSystem(), path.removeprefix("file://")


def exists(path: str) -> bool:
    from pyarrow import fs

    filesystem, p = _filesystem(path)
    return filesystem.get_file_info(p).type == fs.FileType.File


def write_partition(table: pa.Table, path: str) -> None:
    """Write ``table`` to ``path`` so that the file is either absent or complete, never partial."""
    import pyarrow.parquet as pq

    filesystem, p = _filesystem(path)
    if is_url(path):  # an object store: one PUT, visible whole or not at all
        pq.write_table(table, p, filesystem=filesystem)
        return

    def write(tmp: Path) -> None:
        pq.write_table(table, str(tmp))
        _maybe_die()

    atomic_write(p, write)  # a hidden .part-NNNNN.parquet.<hex>.tmp first (see remove_temporaries)


def _maybe_die() -> None:
    armed = os.environ.get(KILL_ONCE_ENV)
    if not armed:
        return
    try:
        os.rename(armed, armed + ".fired")  # atomic: exactly one task wins
    except FileNotFoundError:
        return
    os.kill(os.getpid(), signal.SIGKILL)


def remove_temporaries(directory: str) -> int:
    """Delete temporary files a killed task left in ``directory`` (local folders only); returns how many."""
    if is_url(directory) or not os.path.isdir(directory):
        return 0
    stale = [p for p in Path(directory).glob(".part-*.tmp")]
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale)


def remove_other_versions(root: str, dataset: str, *, corpus: str, keep: str, tokenizer: str | None = None) -> int:
    """Delete the partitions of every other version of one (dataset, corpus[, tokenizer]); returns how many folders."""
    from pyarrow import fs

    current = partition_dir(root, dataset, corpus=corpus, tokenizer=tokenizer, version=keep)
    parent = current.rsplit("/", 1)[0]
    filesystem, p = _filesystem(parent)
    infos = filesystem.get_file_info(fs.FileSelector(p, allow_not_found=True))
    removed = 0
    for info in infos:
        if info.type == fs.FileType.Directory and info.base_name.startswith("version=") \
                and info.base_name != f"version={keep}":
            filesystem.delete_dir(info.path)
            removed += 1
    return removed


@cache
def schema(dataset: str) -> pa.Schema:
    """The columns of one dataset's files (besides the partition columns in their path)."""
    import pyarrow as pa

    i32, i64, text = pa.int32(), pa.int64(), pa.string()
    columns = {
        "counts": [("shard", i32), ("lang", text), ("unit", text), ("n_tokens", i32), ("n_unk", i32),
                   ("n_byte_fallback", i32), ("n_continued", i32)],
        "mono_text": [("shard", i32), ("lang", text), ("lines", i64), ("bytes", i64), ("chars", i64), ("words", i64)],
        "mono_counts": [("shard", i32), ("lang", text), ("lines", i64), ("n_tokens", i64), ("n_unk", i64),
                        ("n_byte_fallback", i64)],
    }[dataset]
    return pa.schema(columns)
