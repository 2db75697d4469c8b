#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fetch a pinned third-party source archive from PyPI and print where it is unpacked.

Usage: fetch_source.py NAME [--dest DIR]
Pins live in scripts/third_party.lock (requirement + sha256). The sdist is taken from the
package index pip is configured with (PyPI by default; some sdists, like urequests', have no
setup.py, so pip itself cannot download them), checked against the pinned sha256 and unpacked
once under build/third_party/NAME.
"""

import argparse
import hashlib
import html
import pathlib
import re
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
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


def index_url():
    # The index pip is configured with (a mirror, say), else PyPI's simple index.
    r = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                       capture_output=True, text=True)
    url = r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else "https://pypi.org/simple"
    return url.rstrip("/")


def download(req, sha):
    """The sdist named by `name==version` from the package index, checked against sha."""
    name, version = req.split("==")
    norm = re.sub(r"[-_.]+", "-", name).lower()
    page_url = "%s/%s/" % (index_url(), norm)
    try:
        page = urllib.request.urlopen(page_url, timeout=60).read().decode()
    except OSError as e:
        sys.exit(f"fetch_source: cannot read {page_url}: {e}")
    for href in re.findall(r'href="([^"]+)"', page):
        href = html.unescape(href)
        fname = urllib.parse.urlsplit(href).path.rsplit("/", 1)[-1]
        stem = re.sub(r"[-_.]+", "-", fname).lower()
        if stem.startswith(f"{norm}-{version}".replace(".", "-")) and fname.endswith((".tar.gz", ".zip")):
            url = urllib.parse.urljoin(page_url, href.split("#")[0])
            data = urllib.request.urlopen(url, timeout=120).read()
            got = hashlib.sha256(data).hexdigest()
            if got != sha:
                sys.exit(f"fetch_source: {fname}: sha256 {got} does not match the pin {sha}")
            return data
    sys.exit(f"fetch_source: no sdist for {req} at {page_url}")


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
    data = download(req, sha)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        archive = pathlib.Path(tmp) / "archive"
        archive.write_bytes(data)
        if zipfile.is_zipfile(archive):
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
