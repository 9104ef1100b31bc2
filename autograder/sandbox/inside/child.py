"""One sandboxed child: isolates itself further, then serves the grader's requests.

Forked by the zygote (:mod:`.zygote`) for one submission.  It first confines itself
(:class:`~.confine.Confinement`: new namespaces and a private ``/tmp``, an
unprivileged uid of its own with ``no_new_privs``, the resource limits, the audit
hook and the runtime guard), then serves the grader's requests (run a cell, call a
function, use a handle) over two pipes, in the safe format of :mod:`.transport`.

Standard library and torch only (see this folder's ``__init__``).
"""

from __future__ import annotations

import ast
import linecache
import os
import traceback
from typing import Any

from . import runtime_guard, transport
from .confine import STUDENT_FILE_PREFIX, Confinement
from .framing import read_exact, write_all

_VERSION: Any = None  # TensorBase._version, captured in serve() before any student code


class Child(Confinement):
    """One sandboxed process serving the grader for one submission."""

    def __init__(self, request: dict[str, Any], fds: list[int], config: dict[str, Any],
                 zygote_report: dict[str, Any]) -> None:
        self.request = request
        self.cmd_fd, self.res_fd, self.out_fd, self.status_fd = fds
        self.config = config
        self.mode = zygote_report["mode"]
        self.layers: list[str] = []
        self.warnings: list[str] = []
        self.handles: dict[int, Any] = {}
        self.next_handle = 1
        self.namespace: dict[str, Any] = {}
        self.loaded = False

    # -- set up -----------------------------------------------------------------------------

    def serve(self) -> None:
        global _VERSION
        import torch

        _VERSION = torch._C.TensorBase._version
        self.reply({"status": "ready", "layers": self.layers, "warnings": self.warnings,
                    "pid": os.getpid(), "readable": getattr(self, "readable", [])})
        while True:
            try:
                prefix = read_exact(self.cmd_fd, transport.PREFIX_SIZE)
                body = read_exact(self.cmd_fd, transport.frame_length(prefix))
            except EOFError:
                os._exit(0)
            generators: list[Any] = []
            request_id = None
            try:
                request = transport.decode(body, make_handle=self.lookup_handle,
                                           generators=generators)
                request_id = request.get("id")
                response = self.dispatch(request, generators)
            except BaseException as error:  # everything becomes an error reply
                response = self.error_reply(error)
            response["id"] = request_id
            self.reply(response)

    def reply(self, response: dict[str, Any]) -> None:
        try:
            frame = transport.encode(response, on_unknown=self.make_handle)
        except BaseException as error:  # a hostile __reduce__/__len__ may raise anything
            fallback = self.error_reply(error, "the returned value cannot be sent")
            fallback["id"] = response.get("id")
            frame = transport.encode(fallback)
        write_all(self.res_fd, frame)

    def error_reply(self, error: BaseException, context: str | None = None) -> dict[str, Any]:
        guards = runtime_guard
        if isinstance(error, guards.ForbiddenCallError):
            return {"status": "forbidden", "name": error.name}
        try:
            message = str(error)
        except BaseException:  # a hostile __str__
            message = "<exception message could not be shown>"
        if context:
            message = f"{context}: {message}"
        return {"status": "error", "type": type(error).__name__, "message": message[:2000],
                "traceback": self.student_traceback(error)}

    def student_traceback(self, error: BaseException) -> str:
        try:
            frames = [f for f in traceback.extract_tb(error.__traceback__)
                      if f.filename.startswith(STUDENT_FILE_PREFIX)]
            lines = []
            for frame in frames[-4:]:
                cell = frame.filename[len(STUDENT_FILE_PREFIX):-1]
                code = f": {frame.line.strip()}" if frame.line else ""
                lines.append(f"  cell {cell}, line {frame.lineno}, in {frame.name}{code}")
            return "\n".join(lines)[:2000]
        except BaseException:  # a traceback of hostile frames must not break the reply
            return ""

    def make_handle(self, obj: Any) -> list[Any]:
        try:
            import numpy

            if isinstance(obj, numpy.generic):
                return self.transport._Encoder(None).encode(obj.item())
        except ImportError:
            pass
        handle_id = self.next_handle
        self.next_handle += 1
        self.handles[handle_id] = obj
        try:
            names = [f"{c.__module__}.{c.__qualname__}" for c in type(obj).__mro__]
        except BaseException:  # a hostile metaclass may raise on __mro__ or __qualname__
            names = []
        return ["h", handle_id, ["l", *names]]

    def lookup_handle(self, fields: list[Any]) -> Any:
        try:
            return self.handles[fields[0]]
        except (KeyError, IndexError, TypeError):
            raise LookupError("unknown handle (the sandbox was restarted)") from None

    def dispatch(self, request: dict[str, Any], generators: list[Any]) -> dict[str, Any]:
        op = request["op"]
        if op == "exec":
            return self.run_cell(request["cell"], request["code"])
        if op == "has":
            return {"status": "ok", "value": request["name"] in self.namespace}
        if op == "call":
            return self.call(request, generators)
        target = request["target"]
        if op == "getattr":
            return self.guarded(lambda: getattr(target, request["name"]))
        if op == "setattr":
            return self.guarded(lambda: setattr(target, request["name"], request["value"]))
        if op == "iter":
            return self.guarded(lambda: list(target))
        if op == "len":
            return self.guarded(lambda: len(target))
        if op == "getitem":
            return self.guarded(lambda: target[request["key"]])
        if op == "repr":
            return self.guarded(lambda: repr(target)[:2000])
        raise ValueError(f"unknown request {op!r}")

    def guarded(self, action: Any) -> dict[str, Any]:
        self.guard.hits.clear()
        try:
            with self.implementation_guard:
                value = action()
        except BaseException as error:  # student code: SystemExit and KeyboardInterrupt too
            return self.error_reply(error)
        if self.guard.hits:
            return {"status": "forbidden", "name": self.guard.hits[0]}
        return {"status": "ok", "value": value}

    def run_cell(self, cell: str, code: str) -> dict[str, Any]:
        filename = f"{STUDENT_FILE_PREFIX}{cell}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        errors: list[dict[str, Any]] = []
        try:
            tree = ast.parse(code, filename)
        except (SyntaxError, ValueError) as error:
            return {"status": "ok", "errors": [{"line": getattr(error, "lineno", 0) or 0,
                                                "type": type(error).__name__,
                                                "message": str(error)[:500]}], "forbidden": []}
        self.guard.hits.clear()
        for node in tree.body:
            module = ast.Module(body=[node], type_ignores=[])
            try:
                with self.implementation_guard:
                    exec(compile(module, filename, "exec"), self.namespace)
            except BaseException as error:  # SystemExit at import included
                errors.append({"line": node.lineno, "type": type(error).__name__,
                               "message": _safe_str(error)[:500]})
        if cell == "imports":
            self.guard.block_imports = True
        return {"status": "ok", "errors": errors, "forbidden": list(self.guard.hits)}

    def call(self, request: dict[str, Any], generators: list[Any]) -> dict[str, Any]:
        target = request["target"]
        where = None
        if isinstance(target, str):
            where = target
            if target not in self.namespace:
                return {"status": "missing", "name": target}
            target = self.namespace[target]
        args, kwargs = list(request["args"]), dict(request["kwargs"])
        info = bool(request.get("info"))
        # The very tensors received, kept before the call: a write into one shows even when
        # the function rebinds the container slot that held it (state["v"] = new).
        received = _tensors_in([args, kwargs]) if info else []
        # Version counters move with every in-place write, also one that is undone before
        # the call returns (x.mul_(2) ... x.div_(2)): purity sees through a restore.
        owners = [(key, t) for key, arg in [*enumerate(args), *kwargs.items()]
                  for t in _tensors_in(arg)] if info else []
        versions = [_version(t) for _, t in owners]
        self.guard.hits.clear()
        try:
            with self.implementation_guard:
                value = target(*args, **kwargs)
        except BaseException as error:  # SystemExit, KeyboardInterrupt included
            reply = self.error_reply(error)
            reply["where"] = where
            if self.guard.hits and reply["status"] != "forbidden":
                reply = {"status": "forbidden", "name": self.guard.hits[0]}
            return reply
        if self.guard.hits:
            return {"status": "forbidden", "name": self.guard.hits[0]}
        reply: dict[str, Any] = {"status": "ok", "value": value,
                                 "generators": [g.get_state() for g in generators]}
        if info:
            # What changed is decided in the grader, which compares these with what it sent
            # (student code may have patched torch in here); only identity is judged here.
            returned = next((i for i, arg in enumerate(args) if value is arg), None)
            written = sorted({key for (key, t), v in zip(owners, versions, strict=True)
                              if _version(t) != v}, key=str)
            reply.update({"args_after": tuple(args), "kwargs_after": kwargs,
                          "returned_arg": returned, "received_after": received,
                          "written": written})
        return reply


def _tensors_in(value: Any, depth: int = 0) -> list[Any]:
    """The tensors of a value tree in order (lists, tuples, dict values), as handles.tensors_in."""
    import torch  # imported by the zygote already

    if isinstance(value, torch.Tensor):
        return [value]
    if depth < 64 and isinstance(value, list | tuple):
        return [t for item in value for t in _tensors_in(item, depth + 1)]
    if depth < 64 and isinstance(value, dict):
        return [t for item in value.values() for t in _tensors_in(item, depth + 1)]
    return []


def _version(tensor: Any) -> int | None:
    """The tensor's version counter, read through the C base class (student code cannot patch
    it); None for tensors that keep none (inference tensors)."""
    try:
        return int(_VERSION.__get__(tensor))
    except BaseException:  # inference tensors raise; a hostile subclass may raise anything
        return None


def _safe_str(error: BaseException) -> str:
    try:
        return str(error)
    except BaseException:  # a hostile __str__ may raise anything
        return "<message could not be shown>"

