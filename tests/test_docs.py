"""The README is the front door and the manual lives in docs/: both kept true by these checks.

- docs/cli.md is exactly what analysis.cli_reference renders from the parser (regenerate it when an option changes);
- the README stays short (what it is, a picture, the two commands, links);
- every relative link in the README and the manual points at a file that exists, and a #fragment at a heading
  that exists (GitHub's heading anchors);
- every page of the manual is reachable from the README.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.cli_reference import render

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.glob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading.

    >>> anchor("python -m analysis build"), anchor("Data sources and licences"), anchor("Cost (per tokenizer)")
    ('python--m-analysis-build', 'data-sources-and-licences', 'cost-per-tokenizer')
    """
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {anchor(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, flags=re.M)}


def test_cli_reference_is_generated_from_the_parser():
    shipped = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert shipped == render(), ("docs/cli.md is stale: an option or help text changed. Regenerate it with "
                                 "`.venv/bin/python -m analysis.cli_reference > docs/cli.md`.")


def test_cli_reference_lists_every_command():
    text = render()
    for command in ("assets fetch", "tokenizers", "encode", "build", "corpus import", "mono-stats", "premiums",
                    "export", "lab train", "lab compare", "lab steps", "glitch scan", "glitch refresh",
                    "glitch indicators", "glitch verify"):
        assert f"\n## python -m analysis {command}\n" in text, command
    assert "--no-token-checks" in text and "95% bootstrap CIs" in text  # argparse's %% shown as %


def test_readme_is_a_front_door():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150, "the README is the front door: move the manual's text into docs/"
    assert "## Two commands" in readme and "docs/images/playground.png" in readme


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path):
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            broken.append(f"{target}: no heading with that anchor in {dest.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


def test_every_manual_page_is_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in LINK.findall(readme)}
    missing = [p.name for p in DOCS.glob("*.md") if p.resolve() not in linked]
    assert not missing, f"docs pages not linked from the README's manual table: {missing}"
