"""Glitch-token probing (Land & Bartolo, "Fishing for Magikarp"): tokenizer checks, weight indicators, verification.

The package registers its build extension (:mod:`.extension`: the token checks' tables, kept current by every
build) when it is imported, as ``import analysis`` does. The tokenizer checks and the store functions import no
torch; :mod:`.indicators`, :mod:`.verify` and :mod:`.probe` do (the only place in ``analysis`` that may). The store
functions (DuckDB, pandas, Arrow) load on first use: a build's counting workers run only the extension's vocabulary
scan (:func:`.extension.scan_job`, with :mod:`.checks`) and need none of them.

Example:
    >>> from analysis.glitch import LEGEND, flags_for
    >>> LEGEND[0][0]
    'special'
"""

from ..extensions import register
from ..lazy import lazy_names
from .categories import CATEGORY_NAMES, EVIDENCE_NAMES, LEGEND, UNDER_TRAINED_VERIFIED, Category, GlitchError

# The token checks run in every build (analysis.extensions); named, so that nothing more loads until a build runs.
register("token_checks", "analysis.glitch.extension:TokenChecks")

_LAZY = {"VocabularyScan": "checks", "scan_vocabulary": "checks", "category_counts": "store", "flags_for": "store",
         "refresh_token_checks": "store", "token_table": "store", "verifications_for": "store"}

__all__ = ["CATEGORY_NAMES", "EVIDENCE_NAMES", "LEGEND", "UNDER_TRAINED_VERIFIED", "Category", "GlitchError",
           "VocabularyScan", "category_counts", "flags_for", "refresh_token_checks", "scan_vocabulary", "token_table",
           "verifications_for"]


# The names of .checks and .store, imported when first asked for.
__getattr__, __dir__ = lazy_names(__name__, _LAZY)
