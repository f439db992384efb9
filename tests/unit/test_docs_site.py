"""The documentation site and the README's links.

`make lint` builds the site with `mkdocs build --strict`; these tests show that the build
passes and that strict mode really catches a broken link (mkdocs' own validation settings in
mkdocs.yml), on copies of mkdocs.yml and docs/ in a scratch folder so the working tree is
never touched. The README is read on GitHub as well as here, so its relative links must name
files that exist.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MKDOCS_MISSING = importlib.util.find_spec("mkdocs") is None
needs_mkdocs = pytest.mark.skipif(
    MKDOCS_MISSING, reason="mkdocs is not installed (the `docs` extra: pip install -e '.[docs]')"
)
# A Markdown link or image target: [text](target) or ![alt](target).
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def site_copy(folder: Path) -> Path:
    """mkdocs.yml, docs/ (the hook included) and a link to src/ (mkdocstrings reads it)."""
    shutil.copy2(ROOT / "mkdocs.yml", folder / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", folder / "docs")
    (folder / "src").symlink_to(ROOT / "src", target_is_directory=True)
    return folder


def build(folder: Path) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` in `folder` (not --quiet: it hides the warnings strict counts)."""
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder / "site")],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


@needs_mkdocs
def test_site_builds_strictly(tmp_path: Path) -> None:
    result = build(site_copy(tmp_path))
    assert result.returncode == 0, result.stderr[-4000:]
    configuration = (tmp_path / "site" / "configuration" / "index.html").read_text()
    # the reference was generated from the config schema at build time
    assert "[algo] preset hg_dagger (HGDAggerConfig)" in configuration
    assert "&lt;!-- config-reference --&gt;" not in configuration
    assert (tmp_path / "site" / "api" / "index.html").read_text().count("doc-heading") > 10


@needs_mkdocs
def test_a_broken_link_fails_the_strict_build(tmp_path: Path) -> None:
    folder = site_copy(tmp_path)
    page = folder / "docs" / "getting-started.md"
    text = page.read_text()
    assert "(algorithms.md" in text
    page.write_text(text.replace("(algorithms.md", "(missing-page.md", 1))
    result = build(folder)
    assert result.returncode != 0
    assert "missing-page.md" in result.stderr


def relative_links(markdown: str) -> list[str]:
    """The link targets that name a file in the repository (no URLs, no bare anchors)."""
    outside_code = re.sub(r"```.*?```", "", markdown, flags=re.DOTALL)
    targets = [m.group(1) for m in LINK.finditer(outside_code)]
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:|^#", t)]


def test_readme_relative_links_resolve() -> None:
    links = relative_links((ROOT / "README.md").read_text())
    assert links, "the README links to its docs pages"
    missing = [t for t in links if not (ROOT / t.split("#")[0]).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"


def test_readme_names_every_benchmark() -> None:
    from userl.benchmarks import BENCHMARKS

    readme = (ROOT / "README.md").read_text()
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    for name in BENCHMARKS.names():
        assert f"| `{name}` |" in readme, f"README's benchmark table lacks `{name}`"
        assert f"## `{name}`" in page, f"docs/benchmarks.md has no section for `{name}`"


def test_readme_keeps_the_generated_results_markers() -> None:
    readme = (ROOT / "README.md").read_text()
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    assert readme.count(begin) == 1 and readme.count(end) == 1
    assert readme.index(begin) < readme.index(end)
