"""setup.sh's choice of interpreter on Gradescope's base images, with stand-in interpreters.

Each test builds a bin/ folder of small shell scripts standing in for python3.X, apt-get,
apt-cache and uv, puts only that folder on PATH and runs ``setup.sh --print-python``, which
chooses (installing if it must) the interpreter the virtual environment is built from.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SETUP = Path(__file__).resolve().parent.parent / "autograder" / "gradescope" / "templates" \
    / "setup.sh"
BASH = shutil.which("bash") or "/bin/bash"


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def _python(bin_dir: Path, name: str, version: str, venv: bool = True) -> Path:
    """A stand-in interpreter: prints ``version`` for setup.sh's probe (fails without venv)."""
    return _script(bin_dir / name, ("exit 1\n" if not venv else f"echo {version}\n"))


def _choose(tmp_path: Path, bin_dir: Path) -> subprocess.CompletedProcess:
    # Only the stand-ins and a few file utilities (never the host's own interpreters) on PATH.
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    for name in ("mkdir", "chmod", "cat"):
        if not (tools / name).exists():
            (tools / name).symlink_to(shutil.which(name))
    env = {"PATH": f"{bin_dir}{os.pathsep}{tools}", "HOME": str(tmp_path),
           "AUTOGRADER_PYTHON_HOME": str(tmp_path / "opt"), "LOG": str(tmp_path / "log")}
    return subprocess.run([BASH, str(SETUP), "--print-python"], env=env, capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    return folder


def test_a_python_311_on_the_image_is_chosen_over_python3_310(tmp_path, bin_dir) -> None:
    _python(bin_dir, "python3", "3.10")
    _python(bin_dir, "python3.12", "3.12", venv=False)  # no python3.12-venv: unusable
    chosen = _python(bin_dir, "python3.11", "3.11")
    done = _choose(tmp_path, bin_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(chosen)


def test_ubuntu_2204_installs_the_distributions_python311(tmp_path, bin_dir) -> None:
    _python(bin_dir, "python3", "3.10")
    _script(bin_dir / "apt-cache", 'echo "apt-cache $*" >> "$LOG"; exit 0\n')
    # apt-get install puts a python3.11 (with venv) on PATH, as Ubuntu 22.04's universe does.
    _script(bin_dir / "apt-get", f'echo "apt-get $*" >> "$LOG"\n'
            f'case "$*" in *install*) printf "#!/bin/sh\\necho 3.11\\n" > {bin_dir}/python3.11;'
            f' chmod +x {bin_dir}/python3.11;; esac\n')
    done = _choose(tmp_path, bin_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(bin_dir / "python3.11")
    log = (tmp_path / "log").read_text()
    assert "apt-get install -y -qq python3.11 python3.11-venv" in log, log


@pytest.mark.parametrize("how", ["uv on PATH", "uv from pip"])
def test_ubuntu_2004_fetches_a_standalone_python_with_uv(tmp_path, bin_dir, how) -> None:
    opt = tmp_path / "opt"
    fake_uv = ('echo "uv $*" >> "$LOG"\n'
               'mkdir -p "$UV_PYTHON_INSTALL_DIR/cpython-3.12.9-linux/bin"\n'
               'printf "#!/bin/sh\\necho 3.12\\n" > '
               '"$UV_PYTHON_INSTALL_DIR/cpython-3.12.9-linux/bin/python3"\n'
               'chmod +x "$UV_PYTHON_INSTALL_DIR/cpython-3.12.9-linux/bin/python3"\n')
    if how == "uv on PATH":
        _python(bin_dir, "python3", "3.8")
        _script(bin_dir / "uv", fake_uv)
    else:  # python3 -m pip install --target DIR uv writes DIR/bin/uv
        _script(bin_dir / "python3",
                'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then\n'
                '  echo "pip $*" >> "$LOG"; mkdir -p "$6/bin"\n'
                f"  cat > \"$6/bin/uv\" <<'EOF'\n#!/bin/sh\n{fake_uv}EOF\n"
                '  chmod +x "$6/bin/uv"; exit 0\nfi\necho 3.8\n')
    _script(bin_dir / "apt-get", "exit 0\n")
    _script(bin_dir / "apt-cache", "exit 100\n")  # 20.04: no python3.11 package
    done = _choose(tmp_path, bin_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(opt / "cpython-3.12.9-linux" / "bin" / "python3")
    log = (tmp_path / "log").read_text()
    assert "uv python install 3.12" in log, log
    assert ("pip -m pip install --quiet --target" in log) == (how == "uv from pip"), log
    # World-readable: the sandboxed child (another uid) imports the standard library from it.
    assert os.stat(opt / "cpython-3.12.9-linux" / "bin" / "python3").st_mode & 0o005 == 0o005


def test_no_usable_python_is_a_clear_failure(tmp_path, bin_dir) -> None:
    _python(bin_dir, "python3", "3.10")
    done = _choose(tmp_path, bin_dir)
    assert done.returncode != 0 and done.stdout == ""
    assert "no Python >= 3.11" in done.stderr, done.stderr


def test_a_real_python_310_is_refused_and_this_one_accepted(tmp_path, bin_dir) -> None:
    """The probe itself, on real interpreters: this one (>= 3.11) and a 3.10 if the host has one."""
    import glob
    import sys

    real = [Path(sys.executable)]
    pyenv = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.10*/bin/python3.10")))
    for candidate in ("/usr/bin/python3.10", *pyenv):
        if candidate and Path(candidate).exists():
            probe = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[:2], sys.executable)"],
                capture_output=True, text=True)
            if probe.returncode == 0 and probe.stdout.startswith("(3, 10) "):
                real.append(Path(probe.stdout.split(" ", 2)[2].strip()))
                break
    _script(bin_dir / "uv", "exit 1\n")  # a uv that fails: no download from this test
    for path in real:
        (bin_dir / "python3").unlink(missing_ok=True)
        (bin_dir / "python3").symlink_to(path)
        done = _choose(tmp_path, bin_dir)
        if path == Path(sys.executable):
            assert done.returncode == 0 and done.stdout.strip() == str(bin_dir / "python3")
        else:
            assert done.returncode != 0, f"{path} (3.10) was accepted"
