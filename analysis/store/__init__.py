"""The DuckDB statistics store: one schema, one builder, small read functions (layers: see docs/store.md)."""

from .build import BuildReport, build
from .corpora import import_into_store, import_mono_into_store
from .schema import COUNTING_POLICY, SCHEMA_VERSION, StoreError, default_db_path, open_readonly

__all__ = ["COUNTING_POLICY", "SCHEMA_VERSION", "BuildReport", "StoreError", "build", "default_db_path",
           "import_into_store", "import_mono_into_store", "open_readonly"]
