"""Publish each chapter as ``.ipynb`` with the site and point the launch buttons at notebooks.

The chapters are MyST Markdown.  sphinx-book-theme's launch buttons link to the source file in the
repository, ``book/<chapter>.md``, which neither Colab (it opens ``.ipynb`` only) nor Binder's
JupyterLab (it opens ``.md`` in the text editor) runs as a notebook.  This extension

1. writes ``_sources/<page>.ipynb`` into the built site for every notebook page: the executed
   notebook (``_build/jupyter_execute``) when there is one, else the ``.md`` read by jupytext,
   with a first cell that installs ``nntrain`` from the repository when it runs on Colab.  The
   theme's ``.ipynb`` download button serves this file;
2. points the Colab button at that file on the branch the site is published to
   (``nntrain_site_branch``, ``gh-pages`` by default: ``ghp-import -n -p -f _build/html``), as
   ``<colab>/github/<org>/<repo>/blob/<site branch>/_sources/<page>.ipynb``;
3. points the Binder button at ``<page>.ipynb`` in the repository, which the repository's
   ``postBuild`` (run by Binder once, when it builds the image) creates with jupytext.

The repository and its branch come from ``_config.yml``'s ``repository`` section (the theme's
``repository_url`` and ``repository_branch``): a fork changes them there and nowhere else.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import nbformat
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

SETUP_TAG = "colab-setup"


def repository(app: Sphinx) -> tuple[str, str, str]:
    """(url, org/repo, branch) of ``_config.yml``'s repository section."""
    options = app.config.html_theme_options
    url = str(options.get("repository_url", "")).rstrip("/")
    branch = str(options.get("repository_branch") or "main")
    match = re.match(r"https://github\.com/([^/]+/[^/]+?)(?:\.git)?$", url)
    return url, (match.group(1) if match else ""), branch


def setup_cell(url: str, branch: str) -> nbformat.NotebookNode:
    """The first cell of a published notebook: on Colab, install ``nntrain`` from ``url``."""
    source = (
        "# On Colab: install nntrain, the package this chapter runs on, from the repository.\n"
        "import sys\n\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install --quiet "nntrain @ git+{url}@{branch}"'
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = [SETUP_TAG]
    return cell


def published_notebook(source: Path, executed: Path | None, url: str,
                       branch: str) -> nbformat.NotebookNode:
    """The notebook published for one page: executed if available, with the setup cell first."""
    if executed is not None and executed.exists():
        notebook = nbformat.read(executed, as_version=4)
    else:
        import jupytext  # only needed when the page was not executed

        notebook = jupytext.read(source)
    notebook.metadata.pop("jupytext", None)
    notebook.cells = [c for c in notebook.cells if SETUP_TAG not in c.metadata.get("tags", [])]
    notebook.cells.insert(0, setup_cell(url, branch))
    nbformat.validator.normalize(notebook)
    return notebook


def _notebook_pages(app: Sphinx) -> list[str]:
    return sorted(
        docname for docname, meta in app.env.metadata.items()
        if "kernelspec" in meta and app.env.doc2path(docname).endswith(".md")
    )


def _write_notebooks(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    url, _, branch = repository(app)
    executed_dir = Path(app.outdir).parent / "jupyter_execute"
    for docname in _notebook_pages(app):
        notebook = published_notebook(Path(app.env.doc2path(docname)),
                                      executed_dir / f"{docname}.ipynb", url, branch)
        target = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")


def with_urlpath(url: str, urlpath: str) -> str:
    """``url`` with its ``urlpath`` query parameter replaced."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["urlpath"] = urlpath
    return urlunsplit(parts._replace(query=urlencode(query, safe="/")))


def _launch_links(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                  doctree: Any) -> None:
    """Rewrite the theme's Colab and Binder links (runs after the theme built them)."""
    _, slug, _ = repository(app)
    if not slug:
        return
    options = app.config.html_theme_options.get("launch_buttons", {})
    colab = str(options.get("colab_url", "")).rstrip("/")
    ui = "lab/tree" if options.get("notebook_interface") == "jupyterlab" else "tree"
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group.get("buttons", []):
            if button.get("text") == "Colab" and colab:
                button["url"] = (f"{colab}/github/{slug}/blob/{app.config.nntrain_site_branch}"
                                 f"/_sources/{pagename}.ipynb")
            elif button.get("text") == "Binder":
                button["url"] = with_urlpath(button["url"], f"{ui}/{pagename}.ipynb")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("nntrain_site_branch", "gh-pages", "html")
    app.connect("html-page-context", _launch_links, priority=600)
    app.connect("build-finished", _write_notebooks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
