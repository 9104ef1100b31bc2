"""The book builds, runs and keeps the shape COURSE.md gives it.

Fast checks (structure, configuration, citations, the offline MathJax bundle) run everywhere.
The slow ones execute every page of ``_toc.yml`` in a fresh kernel (one test per page, so
pytest-xdist spreads them over workers) and build the whole book with Sphinx, execution off and
warnings as errors, then follow every relative link of the HTML.
"""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
sys.path.insert(0, str(BOOK / "_ext"))

import mathjax_offline  # noqa: E402

# COURSE.md's syllabus: (part, chapter file) in lecture order.
SYLLABUS = [
    ("I", "01_activations"), ("I", "02_preprocessing"), ("I", "03_init"),
    ("I", "04_regularization"), ("I", "05_augment"),
    ("II", "06_optim"), ("II", "07_schedules"), ("II", "08_large_batch"),
    ("II", "09_clipping"), ("II", "10_tuning"),
    ("III", "11_ensembles"), ("III", "12_transfer"), ("III", "13_recipe"),
]
CHAPTERS = [stem for _, stem in SYLLABUS]
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def load_yaml(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def toc_chapters() -> list[tuple[str, str]]:
    """(part caption, chapter stem) for every chapter of _toc.yml, in order."""
    return [
        (part["caption"], Path(chapter["file"]).name)
        for part in load_yaml("_toc.yml")["parts"]
        for chapter in part["chapters"]
    ]


def chapter_text(stem: str) -> str:
    return (BOOK / f"{stem}.md").read_text(encoding="utf-8")


def bib_keys() -> dict[str, list[str]]:
    """Every BibTeX key, with the .bib files that define it."""
    keys: dict[str, list[str]] = {}
    for bib in sorted((BOOK / "bib").glob("*.bib")):
        for key in re.findall(r"^\s*@\w+\s*\{\s*([^,\s]+)\s*,", bib.read_text(), re.MULTILINE):
            keys.setdefault(key, []).append(bib.name)
    return keys


# ----------------------------------------------------------------------------- structure


def test_toc_has_every_syllabus_chapter_in_order_and_in_its_part() -> None:
    toc = load_yaml("_toc.yml")
    assert toc["format"] == "jb-book" and toc["root"] == "book/intro"
    found = toc_chapters()
    assert [stem for _, stem in found] == CHAPTERS
    for (caption, stem), (part, expected) in zip(found, SYLLABUS, strict=True):
        assert stem == expected
        assert caption.startswith(f"Part {part} "), (stem, caption)


@pytest.mark.parametrize("stem", ["intro", *CHAPTERS])
def test_page_is_a_myst_notebook(stem: str) -> None:
    text = chapter_text(stem)
    header = yaml.safe_load(text.split("---", 2)[1])
    assert header["jupytext"]["text_representation"]["format_name"] == "myst"
    assert header["kernelspec"]["name"] == "python3"
    assert re.search(r"^# \S", text, re.MULTILINE), "a page needs a top-level title"


@pytest.mark.parametrize("stem", CHAPTERS)
def test_chapter_has_practical_advice_exercises_and_references(stem: str) -> None:
    text = chapter_text(stem)
    headings = re.findall(r"^##\s+(.+?)\s*$", text, re.MULTILINE)
    assert "Practical advice" in headings, f"{stem}: no '## Practical advice' section"
    assert "Exercises" in headings, f"{stem}: no '## Exercises' section"
    assert headings.index("Practical advice") < headings.index("Exercises")
    cited = {key.strip() for group in CITE.findall(text) for key in group.split(",")}
    assert cited, f"{stem}: cites no reference ({{cite}}`key`)"
    missing = sorted(cited - set(bib_keys()))
    assert not missing, f"{stem}: cites keys that no book/bib/*.bib defines: {missing}"
    bibliography = re.search(r"```\{bibliography\}\s*\n(.*?)```", text, re.DOTALL)
    assert bibliography, f"{stem}: no bibliography block"
    assert ":filter: docname in docnames" in bibliography.group(1), (
        f"{stem}: the bibliography must list only this chapter's citations"
    )


def test_bibtex_keys_are_defined_once() -> None:
    twice = {key: files for key, files in bib_keys().items() if len(files) > 1}
    assert not twice, f"keys defined in several .bib files (keep one, cite it anywhere): {twice}"


# ----------------------------------------------------------------------------- configuration


def test_config_caches_execution_fails_on_errors_and_sets_a_timeout() -> None:
    execute = load_yaml("_config.yml")["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert not execute.get("allow_errors", False)
    assert 0 < execute["timeout"] <= 600


def test_config_loads_every_bib_file() -> None:
    listed = load_yaml("_config.yml")["bibtex_bibfiles"]
    present = sorted(p.relative_to(ROOT).as_posix() for p in (BOOK / "bib").glob("*.bib"))
    assert sorted(listed) == present
    assert "book/bib/intro.bib" in listed
    assert {f"book/bib/{stem}.bib" for stem in CHAPTERS} <= set(listed)


def test_config_launch_buttons_and_offline_mathjax() -> None:
    config = load_yaml("_config.yml")
    assert config["repository"]["url"].startswith("https://github.com/")
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert (ROOT / "environment.yml").exists()  # what Binder builds
    sphinx = config["sphinx"]
    assert sphinx["local_extensions"] == {"mathjax_offline": "book/_ext"}
    assert sphinx["config"]["mathjax_path"] == mathjax_offline.SCRIPT_PATH


def test_offline_mathjax_bundle_is_complete(tmp_path: Path) -> None:
    bundle = mathjax_offline.find_bundle()
    assert set(mathjax_offline.REQUIRED_EXPORTS) <= set(bundle.module_ids)
    assert bundle.version.startswith("3.")
    assert "MathJax_Main-Regular" in bundle.fonts and "MathJax_Math-Italic" in bundle.fonts
    script = mathjax_offline.write_assets(bundle, tmp_path)
    text = script.read_text(encoding="utf-8")
    assert "cdn" not in text.lower().split("*/", 1)[0]
    for module_id in bundle.module_ids.values():
        assert re.search(rf"[{{,]{module_id}\(\w+,\w+,\w+\)\{{", text), module_id
    fonts = sorted(p.stem for p in (script.parent / "fonts").glob("*.woff"))
    assert fonts == sorted(bundle.fonts)
    for name in fonts:  # the copies are the fonts they claim to be
        copy = script.parent / "fonts" / f"{name}.woff"
        assert mathjax_offline.woff_postscript_name(copy) == name


# ----------------------------------------------------------------------------- slow: execution


@pytest.mark.slow
@pytest.mark.parametrize("stem", ["intro", *CHAPTERS])
def test_page_executes_without_errors(stem: str) -> None:
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    notebook = jupytext.read(BOOK / f"{stem}.md")
    timeout = load_yaml("_config.yml")["execute"]["timeout"]
    client = nbclient.NotebookClient(
        notebook, timeout=timeout, kernel_name="python3",
        resources={"metadata": {"path": str(BOOK)}},  # run where the book build runs it
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error


# ----------------------------------------------------------------------------- slow: Sphinx


class _Links(HTMLParser):
    """Collect href/src targets and element ids of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id":
                self.ids.add(value)
            elif (name == "href" and tag in ("a", "link")) or (
                name == "src" and tag in ("img", "script")
            ):
                self.targets.append(value)


def parse_html(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def broken_internal_links(html_root: Path) -> list[str]:
    """Relative links whose file, or whose #fragment in that file, does not exist.

    The pages are the built documents; ``_static`` holds theme templates, not pages.
    """
    pages = {
        p.resolve(): parse_html(p)
        for p in html_root.rglob("*.html")
        if "_static" not in p.relative_to(html_root).parts
    }
    broken = []
    for page, links in pages.items():
        for target in links.targets:
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or target.startswith(("mailto:", "javascript:")):
                continue
            path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not path.exists():
                broken.append(f"{page.relative_to(html_root.resolve())} -> {target}")
            elif parts.fragment and path.suffix == ".html":
                ids = pages[path].ids if path in pages else parse_html(path).ids
                if unquote(parts.fragment) not in ids:
                    where = page.relative_to(html_root.resolve())
                    broken.append(f"{where} -> {target} (no such anchor)")
    return broken


def test_link_checker_reports_missing_files_and_anchors(tmp_path: Path) -> None:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "a.html").write_text(
        '<p id="top"><a href="b.html#here">ok</a> <a href="b.html#gone">anchor</a>'
        ' <a href="c.html">file</a> <img src="../img.png"> <a href="#top">self</a>'
        ' <a href="https://example.org/x.html">external</a></p>'
    )
    (tmp_path / "book" / "b.html").write_text('<h1 id="here">B</h1>')
    assert broken_internal_links(tmp_path) == [
        "book/a.html -> b.html#gone (no such anchor)",
        "book/a.html -> c.html",
        "book/a.html -> ../img.png",
    ]


@pytest.mark.slow
def test_book_builds_without_warnings_and_internal_links_resolve(tmp_path: Path) -> None:
    config = load_yaml("_config.yml")
    config["execute"]["execute_notebooks"] = "off"  # the page tests above execute the code
    # local_extensions paths are relative to the config file, which now lives in tmp_path
    config["sphinx"]["local_extensions"] = {
        name: str(ROOT / path) for name, path in config["sphinx"]["local_extensions"].items()
    }
    config_path = tmp_path / "_config.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    result = subprocess.run(
        [str(Path(sys.executable).with_name("jupyter-book")), "build", str(ROOT),
         "--builder", "html", "-W", "--keep-going",
         "--path-output", str(tmp_path), "--config", str(config_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=900,
    )
    log = result.stdout + result.stderr
    warnings = [line for line in log.splitlines() if "WARNING" in line and "TCP" not in line]
    assert result.returncode == 0 and not warnings, "\n".join(warnings) or log[-4000:]
    html = tmp_path / "_build" / "html"
    assert {f"book/{stem}.html" for stem in ["intro", *CHAPTERS]} <= {
        p.relative_to(html).as_posix() for p in html.rglob("*.html")
    }
    assert (html / "_static" / mathjax_offline.SCRIPT_PATH).exists()
    broken = broken_internal_links(html)
    assert not broken, "broken internal links:\n" + "\n".join(broken)
