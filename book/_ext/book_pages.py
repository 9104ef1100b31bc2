"""Page-level fixes of the book's HTML: figure zoom, output wrapping, phone layout, Thebe.

* ``book/_static/nntrain-book.css`` and ``nntrain-book.js`` are added to every page: printed
  outputs wrap at the column instead of being cut at the right, wide tables and displayed
  equations scroll inside themselves at phone width instead of widening the page, and a click on
  a figure opens it at full resolution (Escape or a second click closes it).
* sphinx-thebe adds its inline configuration script (``const THEBE_JS_URL = ...``) once per
  ``env-before-read-docs``, which Jupyter Book fires twice, so every page declared the constant
  twice: a ``SyntaxError`` in the console that stopped the second script (sphinx-togglebutton's
  inline script is repeated the same way).  Sphinx keeps both because one copy has the file name
  ``None`` and the other ``""``; the duplicates are dropped from each page (same file, or none,
  and same body means the same script).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

STATIC = Path(__file__).resolve().parents[1] / "_static"
CSS = "nntrain-book.css"
JS = "nntrain-book.js"


def _static_path(app: Sphinx) -> None:
    if str(STATIC) not in app.config.html_static_path:
        app.config.html_static_path.append(str(STATIC))


def script_key(script: Any) -> tuple[str, str]:
    """What makes two script entries the same script: the file and the inline body."""
    filename = getattr(script, "filename", script) or ""  # an inline script's is None or ""
    body = getattr(script, "attributes", {}).get("body", "")
    return (str(filename), str(body))


def unique_scripts(scripts: list[Any]) -> list[Any]:
    """``scripts`` without repeats (first occurrence kept, order otherwise unchanged)."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for script in scripts:
        key = script_key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    return kept


def _dedupe_scripts(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
                    doctree: Any) -> None:
    if "script_files" in context:
        context["script_files"] = unique_scripts(list(context["script_files"]))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", _static_path)
    app.add_css_file(CSS)
    app.add_js_file(JS, defer="defer")
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
