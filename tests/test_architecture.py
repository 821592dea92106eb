"""The library stays free of the UI: importing analysis pulls in neither streamlit nor torch."""

from __future__ import annotations

import subprocess
import sys


def test_analysis_imports_without_streamlit_or_torch():
    code = (
        "import sys, analysis, analysis.cli, analysis.render, analysis.tokenizers.registry;"
        "from analysis import get_tokenizer; get_tokenizer('utf8-bytes').encode('x');"
        "bad = sorted(m for m in ('streamlit', 'torch', 'plotly') if m in sys.modules);"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
