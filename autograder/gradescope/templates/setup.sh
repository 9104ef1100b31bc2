#!/usr/bin/env bash
# Gradescope runs this once, as root and with network, when it builds the autograder image.
# Any of Gradescope's base images works (Ubuntu 18.04, 20.04 or 22.04, the newest, whose
# python3 is 3.10).  The grader needs Python >= 3.11, so setup.sh takes the first of:
#   1. a Python >= 3.11 (with venv) already on the image (python3.13 ... python3.11, python3);
#   2. the distribution's python3.11 (Ubuntu 22.04's universe has python3.11 and python3.11-venv);
#   3. a standalone CPython (python-build-standalone) installed by uv into $PYTHON_HOME, for
#      18.04 and 20.04, whose distributions stop at 3.8 and 3.9.
# It then builds $ROOT/venv with CPU torch and the grader's dependencies only.  The grader and
# the hidden suite are NOT installed into site-packages: run_autograder runs them from
# $ROOT/source, which is made readable by root only (the sandboxed child runs student code as
# an unprivileged uid, and must not read the suite).
#
#   setup.sh                 the whole set-up
#   setup.sh --print-python  choose (and install if needed) the interpreter, print its path
set -euo pipefail
HERE="${0%/*}"
[ "$HERE" = "$0" ] && HERE=.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
# World-readable (unlike root's home): the sandboxed child imports the standard library from it.
PYTHON_HOME="${AUTOGRADER_PYTHON_HOME:-/opt/autograder-python}"
STANDALONE_VERSION=3.12
export DEBIAN_FRONTEND=noninteractive

log() { echo "setup.sh: $*" >&2; }

# "3.12" when $1 runs and has venv and ensurepip (Ubuntu splits them into python3.X-venv).
python_version() {
    "$1" -c 'import sys, venv, ensurepip; print("%d.%d" % sys.version_info[:2])' 2>/dev/null
}

usable() {  # $1: a path; true for Python >= 3.11 with venv
    local version major minor
    version=$(python_version "$1") || return 1
    major=${version%%.*}
    minor=${version#*.}
    [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || return 1
    (( major > 3 || (major == 3 && minor >= 11) ))
}

find_python() {  # the first usable interpreter on PATH, or in $PYTHON_HOME
    local name path
    for name in python3.13 python3.12 python3.11 python3; do
        path=$(command -v "$name" 2>/dev/null) || continue
        if usable "$path"; then echo "$path"; return 0; fi
    done
    for path in "$PYTHON_HOME"/*/bin/python3; do
        if [ -x "$path" ] && usable "$path"; then echo "$path"; return 0; fi
    done
    return 1
}

from_distribution() {
    command -v apt-get >/dev/null 2>&1 || return 1
    apt-cache show python3.11-venv >/dev/null 2>&1 || { log "no python3.11 in apt"; return 1; }
    log "installing the distribution's python3.11"
    apt-get install -y -qq python3.11 python3.11-venv >&2 || return 1
}

standalone() {
    local uv
    uv=$(command -v uv 2>/dev/null) || {
        # uv itself: a static binary, from PyPI with whatever pip the image has, else its installer.
        log "installing uv to fetch a standalone CPython $STANDALONE_VERSION"
        mkdir -p "$PYTHON_HOME/uv"
        if command -v python3 >/dev/null 2>&1 \
                && python3 -m pip install --quiet --target "$PYTHON_HOME/uv" uv >&2; then
            uv="$PYTHON_HOME/uv/bin/uv"
        elif command -v curl >/dev/null 2>&1; then
            curl -LsSf https://astral.sh/uv/install.sh \
                | env UV_INSTALL_DIR="$PYTHON_HOME/uv" UV_NO_MODIFY_PATH=1 sh >&2 || return 1
            uv="$PYTHON_HOME/uv/uv"
        else
            log "neither pip nor curl to fetch uv"; return 1
        fi
    }
    UV_PYTHON_INSTALL_DIR="$PYTHON_HOME" "$uv" python install "$STANDALONE_VERSION" >&2 || return 1
    chmod -R a+rX "$PYTHON_HOME"
}

choose_python() {
    find_python && return 0
    if command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq >&2 || true
        from_distribution && find_python && return 0
    fi
    standalone && find_python && return 0
    log "no Python >= 3.11 found or installable (tried PATH, apt's python3.11, uv)"
    return 1
}

if [ "${1:-}" = "--print-python" ]; then
    choose_python
    exit
fi

cd "$HERE"
if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    # util-linux: unshare and friends for the sandbox; python3-pip only helps to fetch uv.
    apt-get install -y -qq util-linux python3 python3-pip ca-certificates curl >&2 || true
fi
PYTHON=$(choose_python)
log "building the virtual environment with $PYTHON ($(python_version "$PYTHON"))"
"$PYTHON" -m venv "$ROOT/venv"
VENV_PY="$ROOT/venv/bin/python"
"$VENV_PY" -m pip install --quiet --upgrade pip
# The CPU wheel: Gradescope has no GPU, and the CUDA build is several GB.
"$VENV_PY" -m pip install --quiet "torch==@TORCH_VERSION@" \
    --index-url https://download.pytorch.org/whl/cpu
# The grader's dependencies (pyproject's "grader" extra), not the grader: it stays in source/.
mapfile -t DEPS < <("$VENV_PY" -c '
import tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
for dep in project["optional-dependencies"]["grader"]:
    print(dep)')
"$VENV_PY" -m pip install --quiet "${DEPS[@]}"
# Only root reads the grader, the suite and the configuration.
chown -R root:root "$ROOT/source" 2>/dev/null || true
chmod -R go-rwx "$ROOT/source"
chmod -R a+rX "$ROOT/venv"
cd /
PYTHONPATH="$ROOT/source" "$VENV_PY" -c "import torch, autograder.gradescope.run; \
print('autograder ready, torch', torch.__version__)"
