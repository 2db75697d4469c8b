# SPDX-License-Identifier: MIT
"""micropython-lib `requests` for the benchmark, pinned in scripts/bench-requests.lock by commit
and sha256, never committed. Each pinned version is taken with `git show COMMIT:PATH` from the
first local copy of micropython-lib that has the commit, looked for in this order:

  1. --sources DIR of scripts/bench, else $FASTSOCK_SOURCES: clones or bare git directories named
     owner+name, owner+name/repo, owner+name.git, name or name.git (scripts/esp32-rig's convention);
  2. the emulated-ESP32 rig ($FASTSOCK_RIG, else ~/.cache/fastsock/esp32-rig): its MicroPython
     checkout's lib/micropython-lib (v1.28.0's submodule: has 0.10.2) and mirrors/ (what
     `scripts/esp32-rig --clone` fills).

    python3 mplib_sources.py [--sources DIR]     say what is found where
"""

import hashlib
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
LOCK = ROOT / "scripts" / "bench-requests.lock"
sys.path.insert(0, str(ROOT / "tests" / "device"))
from qemu_device import rig_dir  # noqa: E402 (where the rig is: one rule for tests and bench)


def read_lock():
    pins = {}
    for line in LOCK.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            module, version, repo, commit, path, sha = line.split()[:6]
            pins[module] = {"version": version, "repo": repo, "commit": commit, "path": path, "sha256": sha}
    return pins


def places(sources):
    """(directory, how a user points there) in the order they are searched."""
    out = []
    if sources:
        out.append((pathlib.Path(sources).expanduser(), "--sources DIR, or $FASTSOCK_SOURCES"))
    rig = rig_dir()
    out.append((rig / "micropython" / "lib" / "micropython-lib",
                "the rig's MicroPython checkout (scripts/esp32-rig; $FASTSOCK_RIG names another rig)"))
    out.append((rig / "mirrors", "what `scripts/esp32-rig --clone` fills"))
    return out


def candidates(root, repo):
    owner_name, name = repo.replace("/", "+"), repo.split("/")[1]
    if (root / ".git").exists() or (root / "HEAD").is_file():
        yield root  # a checkout or a bare directory itself (the rig's submodule)
    for c in (root / owner_name / "repo", root / owner_name, root / (owner_name + ".git"), root / name,
              root / (name + ".git")):
        yield c


def git_show(repo_dir, commit, path):
    p = subprocess.run(["git", "-C", str(repo_dir), "show", "%s:%s" % (commit, path)], capture_output=True)
    return p.stdout if p.returncode == 0 else None


def find(sources=None):
    """{module: (source bytes, where)} for every pinned version found with its sha256, and a
    list of messages for those that are not (each naming every place looked and how to point at one)."""
    sources = sources or os.environ.get("FASTSOCK_SOURCES")
    found, missing = {}, []
    for module, pin in read_lock().items():
        looked = []
        for root, how in places(sources):
            for cand in candidates(root, pin["repo"]):
                if not cand.is_dir():
                    continue
                data = git_show(cand, pin["commit"], pin["path"])
                if data is None:
                    looked.append("%s: no commit %s there" % (cand, pin["commit"][:12]))
                    continue
                digest = hashlib.sha256(data).hexdigest()
                if digest != pin["sha256"]:
                    looked.append("%s: %s has sha256 %s, the lock says %s" % (cand, pin["path"], digest[:16],
                                                                               pin["sha256"][:16]))
                    continue
                found[module] = (data, "%s at %s" % (cand, pin["commit"][:12]))
                break
            if module in found:
                break
        if module not in found:
            where = "; ".join("%s (%s)" % (d, how) for d, how in places(sources))
            missing.append("requests %s (%s at %s): looked in %s%s%s. Point at a copy of %s (a clone or bare git "
                           "directory named %s or %s) with --sources DIR or $FASTSOCK_SOURCES" % (
                               pin["version"], pin["repo"], pin["commit"][:12], where,
                               "" if sources else " (no --sources DIR given, no $FASTSOCK_SOURCES set)",
                               ("; " + "; ".join(looked)) if looked else "", pin["repo"],
                               pin["repo"].replace("/", "+"), pin["repo"].split("/")[1]))
    return found, missing


if __name__ == "__main__":
    src = sys.argv[sys.argv.index("--sources") + 1] if "--sources" in sys.argv else None
    got, miss = find(src)
    for m, (data, where) in got.items():
        print("%s: %d bytes from %s" % (m, len(data), where))
    for m in miss:
        print("missing: " + m)
    sys.exit(1 if miss else 0)
