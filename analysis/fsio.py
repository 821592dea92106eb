"""Writing files so that readers see the old version or the new one, never half of one.

One helper, :func:`atomic_write`, for every file (or folder) the library writes: the content goes to a hidden
temporary name in the same folder, which is renamed over the target with ``os.replace`` (atomic on one file system)
only once it is complete. If anything fails on the way (an exception, a full disk) the temporary is removed and the
old file is left as it was; a process killed mid-way leaves only a hidden ``.<name>.<hex>.tmp`` beside the target,
which the writers that run again clean up (see :func:`temporary_path` for the name).

Example:
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = atomic_write(Path(tmp) / "a.txt", "one")
    ...     path.read_text(), sorted(p.name for p in Path(tmp).iterdir())
    ('one', ['a.txt'])
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

#: What :func:`atomic_write` writes: bytes, text (UTF-8), or a function that writes the temporary path it is given
#: (a file, or a whole folder) by whatever means it likes (pandas, pyarrow, DuckDB's COPY, ...).
Content = bytes | str | Callable[[Path], object]


def temporary_path(path: Path) -> Path:
    """The hidden name beside ``path`` that :func:`atomic_write` writes before renaming: ``.<name>.<hex>.tmp`` (a
    name that already starts with a dot keeps its one dot).

    >>> temporary_path(Path("/d/a.json")).name.startswith(".a.json.") and temporary_path(Path("/d/a.json")).suffix
    '.tmp'
    >>> temporary_path(Path("/d/.hidden")).name.startswith(".hidden.")
    True
    """
    dot = "" if path.name.startswith(".") else "."
    return path.with_name(f"{dot}{path.name}.{uuid.uuid4().hex}.tmp")


def atomic_write(path: Path | str, content: Content, *, fsync: bool = False) -> Path:
    """Write ``content`` to ``path`` atomically; return ``path``.

    The folder is created if missing. New files get the usual permissions (``0o666`` less the umask), as with
    ``open``. ``fsync`` flushes bytes or text to the disk before the rename (for files that must survive a power
    cut, such as the verified asset cache); a callable content is flushed by whoever writes it.

    Args:
        content: bytes, text (written as UTF-8), or ``write(tmp: Path)`` that creates the file or folder ``tmp``.

    Raises:
        Whatever the writing raises; the temporary is gone then and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        if callable(content):
            content(tmp)
        else:
            data = content.encode("utf-8") if isinstance(content, str) else content
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies, as with open()
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                if fsync:
                    f.flush()
                    os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    return path


def _remove(tmp: Path) -> None:
    if tmp.is_dir() and not tmp.is_symlink():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.unlink(missing_ok=True)
