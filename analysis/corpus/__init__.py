"""Parallel corpora: the UDHR (default, offline) and imports of users' own corpora."""

from .model import Language, ParallelCorpus, Unit

__all__ = ["Language", "ParallelCorpus", "Unit"]
