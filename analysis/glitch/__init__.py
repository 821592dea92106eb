"""Glitch-token probing (Land & Bartolo, "Fishing for Magikarp"): tokenizer checks, weight indicators, verification.

The tokenizer checks and the store functions import no torch; :mod:`.indicators`, :mod:`.verify` and
:mod:`.probe` do (the only place in ``analysis`` that may).

Example:
    >>> from analysis.glitch import LEGEND, flags_for
    >>> LEGEND[0][0]
    'special'
"""

from .categories import CATEGORY_NAMES, EVIDENCE_NAMES, LEGEND, UNDER_TRAINED_VERIFIED, Category, GlitchError
from .checks import VocabularyScan, scan_vocabulary
from .store import category_counts, flags_for, refresh_token_checks, token_table, verifications_for

__all__ = ["CATEGORY_NAMES", "EVIDENCE_NAMES", "LEGEND", "UNDER_TRAINED_VERIFIED", "Category", "GlitchError",
           "VocabularyScan", "category_counts", "flags_for", "refresh_token_checks", "scan_vocabulary", "token_table",
           "verifications_for"]
