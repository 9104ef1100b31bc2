"""Claims a chapter's prose makes about its own numbers, checked against what the run glued.

A chapter quotes the numbers of its experiments through myst-nb's ``glue`` (``{glue:text}`name```
in the prose, ``glue("name", value)`` in a code cell), so the text cannot drift from the run.
What the prose *says about* those numbers ("scratch wins with much data", "the spread is below
one point") can still be false. ``tests/book_claims/<stem>.py`` states such claims for the chapter
``book/<stem>.md`` as one function::

    def check(glued: dict[str, object]) -> None:
        assert glued["acc_probe"] > glued["acc_scratch"], (...)

``glued`` maps every glue name of the executed chapter to its value: ``text/plain`` read with
``ast.literal_eval`` (numbers, strings, tuples, lists, dicts), else the raw ``text/plain`` string
(a figure, an object's repr). ``tests/test_book.py::test_page_executes_without_errors`` executes
each page once, collects its glued values with :func:`glued_values` and calls the chapter's
``check`` if the file exists; a failed assertion fails that page's test.

The helpers below are shared by that test and by the fast check that every glue name the prose
references is glued by a code cell of the same chapter.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

CLAIMS = Path(__file__).resolve().parent

# {glue}`x`, {glue:text}`x:.2f`, {glue:any}`x`, {glue:md}`x`, {glue:math}`x`
_GLUE_ROLE = re.compile(r"\{glue(?::(?:text|any|md|math))?\}`([^`:]+)(?::[^`]*)?`")
# ```{glue:figure} x  /  :::{glue:figure} x  /  ```{glue} x  /  ```{glue:math} x
_GLUE_DIRECTIVE = re.compile(r"^(?:`{3,}|:{3,})\{glue(?::(?:figure|any|math|md))?\}\s+(\S+)",
                             re.MULTILINE)


def glued_values(outputs: Iterable[Mapping[str, Any]]) -> dict[str, object]:
    """Every value glued in ``outputs`` (the outputs of all code cells), by glue name."""
    glued: dict[str, object] = {}
    for output in outputs:
        scrapbook = output.get("metadata", {}).get("scrapbook", {})
        name = scrapbook.get("name")
        if name is None:
            continue
        # glue(..., display=False) stores its MIME types under application/papermill.record/
        prefix = scrapbook.get("mime_prefix", "")
        data = output.get("data", {})
        text = data.get(f"{prefix}text/plain", data.get("text/plain", ""))
        text = "".join(text) if isinstance(text, list) else str(text)
        try:
            glued[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            glued[name] = text
    return glued


def notebook_glued_values(notebook: Any) -> dict[str, object]:
    """:func:`glued_values` of an nbformat notebook's code cells."""
    return glued_values(
        output for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


def prose_glue_names(markdown: str) -> set[str]:
    """The glue names a chapter's Markdown cells reference (roles and directives)."""
    return set(_GLUE_ROLE.findall(markdown)) | set(_GLUE_DIRECTIVE.findall(markdown))


def _shape(node: ast.expr) -> re.Pattern[str] | None:
    """The names a string expression can take: a literal, or an f-string's shape."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.compile(re.escape(node.value) + r"\Z")
    if isinstance(node, ast.JoinedStr):
        parts = [re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in node.values]
        return re.compile("".join(parts) + r"\Z")
    return None


def code_glue_patterns(code: str) -> list[re.Pattern[str]]:
    """Patterns for the names ``code`` glues.

    A ``glue("x", ...)`` or ``glue(f"acc_{k}", ...)`` call gives its name's pattern. A call whose
    name is a variable (``glue(name, value)`` inside a helper) could glue any string the code
    spells, so then every string literal of the code counts as a possible name.
    """
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    patterns, dynamic = [], False
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and node.args
                and getattr(node.func, "id", getattr(node.func, "attr", None)) == "glue"):
            shape = _shape(node.args[0])
            if shape is None:
                dynamic = True
            else:
                patterns.append(shape)
    if dynamic:
        patterns += [s for node in ast.walk(tree)
                     if isinstance(node, ast.Constant | ast.JoinedStr) and (s := _shape(node))]
    return patterns


def load_check(stem: str) -> Callable[[dict[str, object]], None] | None:
    """``check`` of ``tests/book_claims/<stem>.py``, or None if the chapter has no claims file."""
    path = CLAIMS / f"{stem}.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"book_claims_{stem}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    check = getattr(module, "check", None)
    assert callable(check), f"{path} must define check(glued: dict[str, object]) -> None"
    return check
