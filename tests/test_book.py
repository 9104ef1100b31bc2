"""The book builds, runs and keeps the shape COURSE.md gives it.

Fast checks (structure, configuration, citations, glue names, the API reference pages, the
book's Sphinx extensions, the offline MathJax bundle) run everywhere. The slow ones execute every
page of ``_toc.yml`` in a fresh kernel (one test per page, so pytest-xdist spreads them over
workers) and check the chapter's claims (``tests/book_claims/<stem>.py``) against the values it
glued, and build the whole book with Sphinx (execution cached) and warnings as errors (nitpicky: an
unresolved ``{func}`` reference fails), then follow every relative link of the HTML.
"""

from __future__ import annotations

import json
import pkgutil
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

import book_pages  # noqa: E402
import mathjax_offline  # noqa: E402
import nntrain_api  # noqa: E402
import notebook_links  # noqa: E402
from book_claims import (  # noqa: E402
    code_glue_patterns,
    glued_values,
    load_check,
    notebook_glued_values,
    prose_glue_names,
)

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
API_CAPTION = "API reference"


def load_yaml(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def toc_chapters() -> list[tuple[str, str]]:
    """(part caption, chapter stem) for every chapter of _toc.yml's numbered parts, in order."""
    return [
        (part["caption"], Path(chapter["file"]).name)
        for part in load_yaml("_toc.yml")["parts"] if part["caption"] != API_CAPTION
        for chapter in part["chapters"]
    ]


def toc_api_pages() -> list[str]:
    """The files of the API reference part (its index and the pages under it)."""
    parts = [p for p in load_yaml("_toc.yml")["parts"] if p["caption"] == API_CAPTION]
    files = []
    for part in parts:
        for entry in part["chapters"]:
            files.append(entry["file"])
            files.extend(section["file"] for section in entry.get("sections", []))
    return files


def public_modules() -> list[str]:
    """nntrain's public top-level modules and packages (no leading underscore)."""
    return sorted(m.name for m in pkgutil.iter_modules([str(ROOT / "src" / "nntrain")])
                  if not m.name.startswith("_"))


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


def test_toc_ends_with_an_api_reference_page_per_nntrain_module() -> None:
    parts = load_yaml("_toc.yml")["parts"]
    assert parts[-1]["caption"] == API_CAPTION and not parts[-1].get("numbered", False)
    pages = toc_api_pages()
    assert pages[0] == "book/api/index"
    listed = [Path(page).name for page in pages[1:]]
    assert sorted(listed) == public_modules(), (
        f"API pages {sorted(listed)} != nntrain modules {public_modules()}: "
        "add book/api/<module>.md and list it in _toc.yml"
    )
    index = (BOOK / "api" / "index.md").read_text(encoding="utf-8")
    for module in public_modules():
        page = (BOOK / "api" / f"{module}.md").read_text(encoding="utf-8")
        assert f".. automodule:: nntrain.{module}\n   :members:" in page, module
        assert f"   nntrain.{module}\n" in index, f"the API index does not list nntrain.{module}"


def test_chapter_references_name_documented_nntrain_objects() -> None:
    """Every {func}/{class}/{mod}/{meth} target of the chapters exists in nntrain."""
    # {func}`nntrain.x.f`, {func}`~nntrain.x.f`, {func}`title <nntrain.x.f>`
    role = re.compile(r"\{(?:py:)?(func|class|mod|meth|attr|data|exc)\}`"
                      r"(?:[^`<]*<)?~?([^`<>]+?)>?`")
    for stem in ["intro", *CHAPTERS]:
        for kind, target in role.findall(chapter_text(stem)):
            assert target.startswith("nntrain."), f"{stem}: {{{kind}}}`{target}` is not nntrain's"
            parts = target.split(".")
            obj, found = None, 1
            for i in range(len(parts), 1, -1):  # longest importable module prefix
                try:
                    obj = __import__(".".join(parts[:i]), fromlist=["_"])
                    found = i
                    break
                except ImportError:
                    continue
            assert obj is not None, f"{stem}: {target}: no such module"
            for attr in parts[found:]:
                assert hasattr(obj, attr), f"{stem}: {target}: {attr} not found"
                obj = getattr(obj, attr)


@pytest.mark.parametrize("stem", ["intro", *CHAPTERS])
def test_every_glue_name_in_the_prose_is_glued_by_a_code_cell(stem: str) -> None:
    jupytext = pytest.importorskip("jupytext")
    notebook = jupytext.read(BOOK / f"{stem}.md")
    prose = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    code = "\n\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    patterns = code_glue_patterns(code)
    missing = sorted(n for n in prose_glue_names(prose) if not any(p.match(n) for p in patterns))
    assert not missing, f"{stem}: the prose references glue names no code cell glues: {missing}"


# Chapters laid out for the 688 px column (issue 12): code lines that fit, figures no wider than
# the column. The chapters being redesigned elsewhere join the list when they are done.
COLUMN_CHAPTERS = ["01_activations", "02_preprocessing", "03_init", "05_augment", "06_optim",
                   "07_schedules", "11_ensembles"]
CODE_WIDTH = 88  # characters of a code cell that the column shows without scrolling
FIGSIZE = re.compile(r"figsize=\(\s*([0-9.]+)\s*,")


@pytest.mark.parametrize("stem", COLUMN_CHAPTERS)
def test_code_lines_fit_the_column_and_figures_are_no_wider(stem: str) -> None:
    jupytext = pytest.importorskip("jupytext")
    notebook = jupytext.read(BOOK / f"{stem}.md")
    long_lines = [line for cell in notebook.cells if cell.cell_type == "code"
                  and "remove-input" not in cell.metadata.get("tags", [])
                  for line in cell.source.splitlines() if len(line) > CODE_WIDTH]
    assert not long_lines, f"{stem}: code lines over {CODE_WIDTH} characters: {long_lines}"
    wide = [float(w) for cell in notebook.cells if cell.cell_type == "code"
            for w in FIGSIZE.findall(cell.source) if float(w) > 6.9]
    assert not wide, f"{stem}: figures wider than the 6.9 in column: {wide}"
    text = chapter_text(stem)
    assert "book_style()" in text, f"{stem}: does not call nntrain.plots.book_style()"
    assert "plt.show()" not in text, f"{stem}: a figure shown outside a numbered glue:figure"


def test_glue_helpers_find_roles_directives_calls_and_values() -> None:
    prose = ("{glue:text}`acc:.1%` and {glue}`loss` and {glue:text}`n_train`\n"
             "```{glue:figure} fig_curves\n:name: fig-curves\n```\n"
             ":::{glue:figure} fig_other\n:::\n")
    assert prose_glue_names(prose) == {"acc", "loss", "n_train", "fig_curves", "fig_other"}
    patterns = code_glue_patterns('glue("acc", a)\nglue(f"acc_{name}", v, display=False)\n'
                                  "%matplotlib inline\nglue('loss', 1.0)")
    assert [bool(p.match("acc")) for p in patterns] == [True, False, False]
    assert patterns[1].match("acc_relu") and not patterns[1].match("loss_relu")
    helper = 'def g(name, v):\n    glue(name, v)\n\ng("n_train", 3)\nx = "unrelated"'
    assert any(p.match("n_train") for p in code_glue_patterns(helper))
    assert not any(p.match("n_wrong") for p in code_glue_patterns(helper))
    outputs = [
        {"output_type": "display_data", "metadata": {"scrapbook": {"name": "acc"}},
         "data": {"text/plain": "0.93"}},
        {"output_type": "display_data", "metadata": {"scrapbook": {"name": "fig"}},
         "data": {"text/plain": ["<Figure size 640x480 ", "with 1 Axes>"], "image/png": "x"}},
        {"output_type": "display_data", "metadata": {"scrapbook": {"name": "pair"}},
         "data": {"text/plain": "(1, 'a')"}},
        {"output_type": "display_data",  # glue(..., display=False)
         "metadata": {"scrapbook": {"name": "hidden",
                                    "mime_prefix": "application/papermill.record/"}},
         "data": {"application/papermill.record/text/plain": "-2.5e-08"}},
        {"output_type": "stream", "name": "stdout", "text": "0.5\n"},
    ]
    assert glued_values(outputs) == {"acc": 0.93, "fig": "<Figure size 640x480 with 1 Axes>",
                                     "pair": (1, "a"), "hidden": -2.5e-08}


def test_claims_files_define_check() -> None:
    claims = sorted((ROOT / "tests" / "book_claims").glob("[0-9]*.py"))
    for path in claims:
        assert path.stem in CHAPTERS, f"{path.name} names no chapter of the book"
        assert callable(load_check(path.stem))
    assert load_check("no_such_chapter") is None


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
    assert sphinx["local_extensions"] == {
        "mathjax_offline": "book/_ext", "nntrain_api": "book/_ext",
        "book_pages": "book/_ext", "notebook_links": "book/_ext",
    }
    assert sphinx["config"]["mathjax_path"] == mathjax_offline.SCRIPT_PATH


def test_repository_url_is_written_only_in_config() -> None:
    url = load_yaml("_config.yml")["repository"]["url"]
    pages = [BOOK / "intro.md", *(BOOK / f"{stem}.md" for stem in CHAPTERS)]
    sources = [*pages, *sorted((BOOK / "_ext").glob("*.py")), *sorted((BOOK / "_static").glob("*"))]
    for path in sources:
        assert url not in path.read_text(encoding="utf-8"), f"{path} repeats {url}"


def test_config_makes_unresolved_references_errors_and_documents_nntrain() -> None:
    sphinx = load_yaml("_config.yml")["sphinx"]
    assert sphinx["config"]["nitpicky"] is True
    for pattern in (p for _, p in sphinx["config"].get("nitpick_ignore_regex", [])):
        assert not re.match(pattern, "nntrain.train.fit"), f"{pattern} hides nntrain's own names"
    assert {"sphinx.ext.autodoc", "sphinx.ext.napoleon"} <= set(sphinx["extra_extensions"])
    assert nntrain_api.use_source_tree() == ROOT / "src" / "nntrain"


def test_api_extension_helpers() -> None:
    names = ["nntrain.train.fit", "nntrain.ensembles.fit_snapshot_ensemble",
             "nntrain.augment.fancy_pca", "nntrain.a.x", "nntrain.b.x"]
    assert nntrain_api.unique_suffix_match("fit", names) == "nntrain.train.fit"
    assert nntrain_api.unique_suffix_match("fancy_pca", names) == "nntrain.augment.fancy_pca"
    assert nntrain_api.unique_suffix_match("x", names) is None  # ambiguous
    assert nntrain_api.unique_suffix_match("missing", names) is None
    assert nntrain_api.is_type_alias("nntrain.models", "InitSpec")
    assert not nntrain_api.is_type_alias("nntrain.models", "MLP")
    from nntrain import optim
    assert nntrain_api.is_documented_instance(optim.rosenbrock)
    assert not nntrain_api.is_documented_instance(optim.TestFunction)
    assert "nntrain.augment.colour" in nntrain_api.iter_modules("nntrain", recursive=True)
    assert "nntrain.augment._common" not in nntrain_api.iter_modules("nntrain.augment")


def test_duplicate_scripts_are_dropped_once() -> None:
    class Script(str):
        def __new__(cls, filename: str, body: str = "") -> Script:
            obj = super().__new__(cls, filename)
            obj.filename, obj.attributes = filename, {"body": body}
            return obj

    config = Script("", "const THEBE_JS_URL = 1")
    config.filename = None  # Sphinx gives one copy of an inline script None, the other ""
    scripts = [Script("a.js"), config, Script("b.js"), Script("", "const THEBE_JS_URL = 1"),
               Script("", "other"), Script("a.js")]
    kept = book_pages.unique_scripts(scripts)
    assert [(s.filename, s.attributes["body"]) for s in kept] == [
        ("a.js", ""), (None, "const THEBE_JS_URL = 1"), ("b.js", ""), ("", "other")]
    assert kept[1] is config
    assert (book_pages.STATIC / book_pages.CSS).exists()
    assert (book_pages.STATIC / book_pages.JS).exists()


def test_published_notebook_installs_nntrain_on_colab_only(tmp_path: Path) -> None:
    notebook = notebook_links.published_notebook(
        BOOK / "03_init.md", tmp_path / "absent.ipynb", "https://github.com/o/r", "dev")
    first = notebook.cells[0]
    assert first.cell_type == "code" and notebook_links.SETUP_TAG in first.metadata["tags"]
    assert 'if "google.colab" in sys.modules:' in first.source
    assert '"nntrain @ git+https://github.com/o/r@dev"' in first.source
    assert sum(notebook_links.SETUP_TAG in c.metadata.get("tags", []) for c in notebook.cells) == 1
    assert notebook.cells[1].source.startswith("# Parameters") or notebook.cells[1].source
    url = notebook_links.with_urlpath("https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/a.md",
                                      "lab/tree/book/a.ipynb")
    assert url == "https://mybinder.org/v2/gh/o/r/main?urlpath=lab/tree/book/a.ipynb"


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
    glued = notebook_glued_values(notebook)
    check = load_check(stem)
    if check is not None:  # tests/book_claims/<stem>.py: the prose's claims on these values
        check(glued)


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
    # The prose quotes glued numbers, so the pages must run: with the cache `make book` uses,
    # a page whose code is unchanged since the last build is not run again.
    config["execute"]["cache"] = str(ROOT / "_build" / ".jupyter_cache")
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
        capture_output=True, text=True, cwd=ROOT, timeout=1800,
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
    check_built_pages(html, config)


def check_built_pages(html: Path, config: dict) -> None:
    """The chapters' nntrain references link to the API pages; one Thebe config per page;
    each chapter's .ipynb is published and its Colab/Binder buttons open it."""
    role = re.compile(r"\{(?:func|class|mod|meth)\}`")
    branch = config["sphinx"]["config"]["nntrain_site_branch"]
    slug = config["repository"]["url"].removeprefix("https://github.com/")
    for stem in ["intro", *CHAPTERS]:
        page = (html / "book" / f"{stem}.html").read_text(encoding="utf-8")
        article = page[page.index('<article class="bd-article"'):page.index("</article>")]
        linked = len(re.findall(r'<a class="reference internal" href="api/', article))
        roles = len(role.findall(chapter_text(stem)))
        assert linked >= roles, f"{stem}: {linked} links to the API reference for {roles} roles"
        assert page.count("const THEBE_JS_URL") == 1, f"{stem}: Thebe configured twice"
        notebook = json.loads((html / "_sources" / "book" / f"{stem}.ipynb").read_text())
        assert notebook_links.SETUP_TAG in notebook["cells"][0]["metadata"]["tags"]
        assert (f"/github/{slug}/blob/{branch}/_sources/book/{stem}.ipynb") in page, stem
        assert f"urlpath=lab/tree/book/{stem}.ipynb" in page, stem
