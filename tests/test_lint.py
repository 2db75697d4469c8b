"""The project's own Python passes ruff (rules in ruff.toml): pyflakes and pycodestyle."""

import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Python files without a .py suffix (command-line tools).
SCRIPTS = ["bench", "flash", "codesize", "fetch-lwip", "fetch-mbedtls", "bench-tls", "bench-lwip",
           "bench-engine"]


def test_ruff_clean():
    ruff = shutil.which("ruff", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff not found: it is pinned in tests/requirements.txt (make test installs it)")
    targets = ["cmodules/fastsock/fastsock.py", "firmware/host/lib", "scripts", "tests"]
    targets += ["scripts/" + s for s in SCRIPTS]
    r = subprocess.run([ruff, "check", *targets], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
