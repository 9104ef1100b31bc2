"""Render the book's equations with MathJax without a network connection.

Sphinx's default ``mathjax_path`` loads MathJax from a CDN, so a book read offline (or built on a
machine without internet) shows raw LaTeX.  No MathJax package is installed here, but JupyterLab
(a dependency of the course through nbgrader) ships MathJax 3 (``mathjax-full``, Apache-2.0) inside
its pre-built web bundle: a set of rspack "chunks", each a script that pushes a table of module
factories onto a global array.  JupyterLab's own MathJax plugin lists which chunks and which
module ids hold ``mathjax``, ``TeX``, ``CHTML``, ``TeXFont``, ``AllPackages``, ``HTMLHandler``,
``browserAdaptor``, ``SafeHandler`` and ``AssistiveMmlHandler``.

At build time this extension

1. finds that list in the installed JupyterLab (so it follows JupyterLab upgrades),
2. concatenates the needed chunks behind a ~40-line module loader into one script,
   ``_static/mathjax-offline/mathjax-offline.js``, that typesets the page once it has loaded,
   reading the ``window.MathJax`` configuration Sphinx and MyST write into the page,
3. copies MathJax's TeX fonts (WOFF files, recognised by the PostScript name in their ``name``
   table) to ``_static/mathjax-offline/fonts`` under the file names MathJax expects.

``_config.yml`` points ``mathjax_path`` at the script; everything lives in ``_build`` (about 1 MB of
script and 0.6 MB of fonts), nothing is copied into the repository.  If JupyterLab is missing or its
bundle changed shape, the build warns (an error under ``-W``) instead of silently falling back to
the CDN.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

SCRIPT_PATH = "mathjax-offline/mathjax-offline.js"

# The named exports the typesetting code below needs, as JupyterLab's plugin destructures them.
REQUIRED_EXPORTS = (
    "mathjax", "CHTML", "TeX", "TeXFont", "AllPackages",
    "SafeHandler", "HTMLHandler", "browserAdaptor", "AssistiveMmlHandler",
)


class MathJaxBundleError(RuntimeError):
    """JupyterLab's bundle is missing or does not have the expected shape."""


@dataclass
class MathJaxBundle:
    """What the generated script needs: chunk files, module ids, the chunk array's name, fonts."""

    static_dir: Path
    chunk_files: list[Path]
    module_ids: dict[str, str]
    chunk_global: str
    version: str
    fonts: dict[str, Path] = field(default_factory=dict)  # "MathJax_Main-Regular" -> woff file


def jupyterlab_static_dir() -> Path:
    spec = find_spec("jupyterlab")
    if spec is None or spec.origin is None:
        raise MathJaxBundleError("JupyterLab is not installed, so there is no local MathJax")
    static = Path(spec.origin).parent / "static"
    if not static.is_dir():
        raise MathJaxBundleError(f"JupyterLab has no pre-built bundle at {static}")
    return static


# `let[{mathjax:e},{CHTML:n},...]=await Promise.all([<one import per name>])`
_DESTRUCTURE = re.compile(
    r"\[(?P<names>\{mathjax:\w+\}(?:,\{\w+:\w+\})+)\]\s*=\s*await\s+Promise\.all\(\[(?P<items>.*?)\]\)\s*;",
    re.DOTALL,
)
# one import: `i.e(5092).then(i.bind(i,81039))`
#         or `Promise.all([i.e(7626),...]).then(i.t.bind(i,24090,23))`
_IMPORT = re.compile(
    r"(?P<chunks>(?:Promise\.all\(\[[^\]]*\]\)|[\w$]+\.e\(\d+\)))"
    r"\.then\([\w$]+\.(?:t\.)?bind\([\w$]+,(?P<module>\d+)(?:,\d+)?\)\)"
)


def find_bundle(static: Path | None = None) -> MathJaxBundle:
    """Locate MathJax's modules, their chunks and fonts in JupyterLab's pre-built bundle."""
    static = static or jupyterlab_static_dir()
    by_id = {p.name.split(".", 1)[0]: p for p in static.glob("*.js")}
    for path in sorted(static.glob("*.js")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if "ensureMathDocument" not in text:
            continue
        match = _DESTRUCTURE.search(text)
        if match is None:
            continue
        names = re.findall(r"\{(\w+):\w+\}", match["names"])
        imports = list(_IMPORT.finditer(match["items"]))
        if len(imports) != len(names):
            raise MathJaxBundleError(
                f"{path.name}: {len(names)} MathJax names but {len(imports)} imports"
            )
        module_ids = {name: imp["module"] for name, imp in zip(names, imports, strict=True)}
        missing = [name for name in REQUIRED_EXPORTS if name not in module_ids]
        if missing:
            raise MathJaxBundleError(f"{path.name}: MathJax plugin lacks {missing}")
        chunk_ids: list[str] = []
        for imp in imports:
            for chunk in re.findall(r"\.e\((\d+)\)", imp["chunks"]):
                if chunk not in chunk_ids:
                    chunk_ids.append(chunk)
        absent = [c for c in chunk_ids if c not in by_id]
        if absent:
            raise MathJaxBundleError(f"chunks {absent} are not in {static}")
        chunk_files = [by_id[c] for c in chunk_ids]
        first = chunk_files[0].read_text(encoding="utf-8")
        array = re.search(r"\(self\.([\w$]+)\s*=\s*self\.\1\s*\|\|\s*\[\]\)\.push", first)
        if array is None:
            raise MathJaxBundleError(f"{chunk_files[0].name} is not an rspack/webpack chunk")
        blob = "".join(p.read_text(encoding="utf-8") for p in chunk_files)
        defined = set(re.findall(r"[{,](\d+)\(\w+,\w+,\w+\)\{", blob))
        undefined = [m for m in module_ids.values() if m not in defined]
        if undefined:
            raise MathJaxBundleError(f"modules {undefined} are not defined in chunks {chunk_ids}")
        version = re.search(r'VERSION="(\d+\.\d+\.\d+)"', blob)
        bundle = MathJaxBundle(
            static_dir=static,
            chunk_files=chunk_files,
            module_ids=module_ids,
            chunk_global=array.group(1),
            version=version.group(1) if version else "3",
        )
        bundle.fonts = find_fonts(static)
        wanted = set(re.findall(r"%%URL%%/([\w-]+)\.woff", blob))
        lacking = sorted(wanted - set(bundle.fonts))
        if not wanted or lacking:
            raise MathJaxBundleError(f"MathJax fonts missing from {static}: {lacking or 'all'}")
        bundle.fonts = {name: bundle.fonts[name] for name in sorted(wanted)}
        return bundle
    raise MathJaxBundleError(f"no MathJax plugin found in JupyterLab's bundle at {static}")


def woff_postscript_name(path: Path) -> str | None:
    """The PostScript name (name id 6) from a WOFF 1.0 file's ``name`` table, or None."""
    data = path.read_bytes()
    if data[:4] != b"wOFF":
        return None
    (num_tables,) = struct.unpack(">H", data[12:14])
    for i in range(num_tables):
        entry = data[44 + 20 * i: 64 + 20 * i]
        tag, offset, comp_len, orig_len, _ = struct.unpack(">4sIIII", entry)
        if tag != b"name":
            continue
        table = data[offset: offset + comp_len]
        if comp_len < orig_len:
            table = zlib.decompress(table)
        _, count, strings = struct.unpack(">HHH", table[:6])
        for k in range(count):
            platform, _, _, name_id, length, start = struct.unpack(
                ">6H", table[6 + 12 * k: 18 + 12 * k]
            )
            if name_id == 6:
                raw = table[strings + start: strings + start + length]
                return raw.decode("utf-16-be" if platform in (0, 3) else "latin-1")
    return None


def find_fonts(static: Path) -> dict[str, Path]:
    fonts = {}
    for path in sorted(static.glob("*.woff")):
        name = woff_postscript_name(path)
        if name and name.startswith("MathJax_"):
            fonts[name] = path
    return fonts


_LOADER = """\
/* MathJax %(version)s (mathjax-full, Apache-2.0, https://www.mathjax.org), taken at build time
 * from JupyterLab's pre-built bundle by book/_ext/mathjax_offline.py: no network needed. */
(function () {
  "use strict";
  var factories = {}, cache = {};
  var previous = self[%(array)s];
  self[%(array)s] = { push: function (chunk) { Object.assign(factories, chunk[1]); } };
%(chunks)s
  self[%(array)s] = previous;
  function req(id) {
    if (cache[id]) return cache[id].exports;
    if (!factories[id]) throw new Error("mathjax-offline: module " + id + " is missing");
    var module = (cache[id] = { exports: {} });
    factories[id].call(module.exports, module, module.exports, req);
    return module.exports;
  }
  req.o = function (obj, key) { return Object.prototype.hasOwnProperty.call(obj, key); };
  req.d = function (exports, getters) {
    for (var key in getters) {
      if (req.o(getters, key) && !req.o(exports, key)) {
        Object.defineProperty(exports, key, { enumerable: true, get: getters[key] });
      }
    }
  };
  req.r = function (exports) {
    if (typeof Symbol !== "undefined" && Symbol.toStringTag) {
      Object.defineProperty(exports, Symbol.toStringTag, { value: "Module" });
    }
    Object.defineProperty(exports, "__esModule", { value: true });
  };
  req.n = function (module) {
    var getter = module && module.__esModule ? function () { return module["default"]; }
                                             : function () { return module; };
    req.d(getter, { a: getter });
    return getter;
  };
  req.g = self;
  var ids = %(ids)s;
  function get(name) { return req(ids[name])[name]; }
  var script = document.currentScript;
  var fontURL = new URL("fonts", script ? script.src : document.baseURI).href;
  // What Sphinx and MyST put in `window.MathJax` (mathjax3_config): delimiters and classes.
  var config = (typeof window.MathJax === "object" && window.MathJax) || {};
  var texOptions = Object.assign({
    inlineMath: [["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]],
    processEscapes: true, processEnvironments: true
  }, config.tex || {});
  texOptions.packages = get("AllPackages").filter(function (p) { return p !== "require"; });
  var documentOptions = Object.assign({}, config.options || {});

  function typeset() {
    var mathjax = get("mathjax");
    mathjax.handlers.register(get("AssistiveMmlHandler")(get("SafeHandler")(
      new (get("HTMLHandler"))(get("browserAdaptor")()))));
    var TeXFont = get("TeXFont"), CHTML = get("CHTML"), TeX = get("TeX");
    var output = new CHTML({ font: new TeXFont({ fontURL: fontURL }) });
    var doc = mathjax.document(document, Object.assign(
      { InputJax: new TeX(texOptions), OutputJax: output }, documentOptions));
    doc.render();
    window.MathJaxOffline = { document: doc, version: %(version_json)s };
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", typeset);
  } else {
    typeset();
  }
})();
"""


def render_script(bundle: MathJaxBundle) -> str:
    """The single script: the chunks (each in its own function scope) and the loader."""
    chunks = "\n".join(
        f"  /* {p.name} */\n  (function () {{\n{p.read_text(encoding='utf-8')}\n  }})();"
        for p in bundle.chunk_files
    )
    return _LOADER % {
        "version": bundle.version,
        "version_json": json.dumps(bundle.version),
        "array": json.dumps(bundle.chunk_global),
        "chunks": chunks,
        "ids": json.dumps(bundle.module_ids),
    }


def write_assets(bundle: MathJaxBundle, static_out: Path) -> Path:
    """Write the script and the fonts under ``static_out/mathjax-offline``; return the script."""
    target = static_out / SCRIPT_PATH
    (target.parent / "fonts").mkdir(parents=True, exist_ok=True)
    text = render_script(bundle)
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
    for name, source in bundle.fonts.items():
        dest = target.parent / "fonts" / f"{name}.woff"
        if not dest.exists() or dest.stat().st_size != source.stat().st_size:
            dest.write_bytes(source.read_bytes())
    return target


def _build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    if app.config.mathjax_path != SCRIPT_PATH:
        return  # the user chose another MathJax (for example the CDN): leave it alone
    try:
        bundle = find_bundle()
    except MathJaxBundleError as err:
        logger.warning(f"offline MathJax not written, equations will not render: {err}")
        return
    write_assets(bundle, Path(app.outdir) / "_static")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("build-finished", _build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
