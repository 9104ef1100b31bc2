#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image
# (choose an Ubuntu base image with Python >= 3.11, e.g. Ubuntu 24.04).
# It installs CPU torch, then the grader and this assignment's hidden suite
# from this folder into a virtual environment (nntrain is not needed to grade).
set -euo pipefail
cd "$(dirname "$0")"
ROOT="${AUTOGRADER_ROOT:-/autograder}"

if command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip util-linux
fi
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "this autograder needs Python >= 3.11: pick a newer Gradescope base image" >&2; exit 1; }

python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --upgrade pip
# The CPU wheel: Gradescope has no GPU, and the CUDA build is several GB.
"$ROOT/venv/bin/python" -m pip install --quiet "torch==@TORCH_VERSION@" \
    --index-url https://download.pytorch.org/whl/cpu
"$ROOT/venv/bin/python" -m pip install --quiet ".[grader]"
"$ROOT/venv/bin/python" -c "import torch, autograder; print('autograder ready, torch', torch.__version__)"
