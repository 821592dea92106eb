"""The DuckDB statistics store: one schema, one builder, small read functions (layers: see docs/store.md).

The names below load on first use (PEP 562), except :func:`build` (also the name of its module, which an import
would otherwise put in its place); :mod:`.build` itself defers its heavy imports to the build. So a command that only
reads the store (``python -m analysis premiums``) imports no counting pool, tokenizer or pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names
from .build import BuildReport, build

if TYPE_CHECKING:
    from .corpora import import_into_store, import_mono_into_store
    from .schema import COUNTING_POLICY, SCHEMA_VERSION, StoreError, default_db_path, open_readonly

__all__ = ["COUNTING_POLICY", "SCHEMA_VERSION", "BuildReport", "StoreError", "build", "default_db_path",
           "import_into_store", "import_mono_into_store", "open_readonly"]

_LAZY = {"import_into_store": "corpora",
         "import_mono_into_store": "corpora", "COUNTING_POLICY": "schema", "SCHEMA_VERSION": "schema",
         "StoreError": "schema", "default_db_path": "schema", "open_readonly": "schema"}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
