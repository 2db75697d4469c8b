# SPDX-License-Identifier: MIT
"""Pinned upstream sources from Debian source packages (used by scripts/fetch-lwip and
scripts/fetch-mbedtls).

A pin is one line of a lock file: `name version orig-tarball sha256 top-dir suite`. The
orig tarball is downloaded with `apt-get source --download-only name=version`, checked
against the sha256 and only the listed paths are unpacked under DEST/name/top-dir. When apt
does not know that source version, a deb-src entry for the pin's suite (bookworm, trixie, ...)
is added under /etc/apt/sources.list.d, taken from the machine's own Debian `deb` entry (same
mirror and key), and `apt-get update` is run: root or sudo is needed once.
"""

import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile

SOURCES_DIR = pathlib.Path("/etc/apt/sources.list.d")


class Pin:
    def __init__(self, lock, name):
        for line in pathlib.Path(lock).read_text().splitlines():
            if line.strip() and not line.startswith("#") and line.split()[0] == name:
                self.name, self.version, self.tarball, self.sha256, self.top, self.suite = line.split()
                return
        raise SystemExit("no %s pin in %s" % (name, lock))


def _die(pin, msg):
    sys.exit("fetch-%s: %s" % (pin.name, msg))


def _as_root(pin, cmd):
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            _die(pin, "need root (or sudo) to run: %s" % " ".join(cmd))
        cmd = ["sudo"] + cmd
    return subprocess.run(cmd)


def _stanzas(text):
    # Deb822 paragraphs as dicts (comments dropped).
    out, cur = [], {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if cur:
                out.append(cur)
            cur = {}
            continue
        if ":" in line and not line[0].isspace():
            k, v = line.split(":", 1)
            cur[k.strip()] = v.strip()
    if cur:
        out.append(cur)
    return out


def _apt_knows(pin):
    p = subprocess.run(["apt-cache", "showsrc", pin.name], capture_output=True, text=True)
    return ("Version: %s" % pin.version) in p.stdout.splitlines()


def _add_suite(pin):
    # The machine's Debian main-archive `deb` stanza, as deb-src for the pin's suite.
    base = None
    for f in sorted(SOURCES_DIR.glob("*.sources")):
        for s in _stanzas(f.read_text()):
            if "deb" in s.get("Types", "").split() and "debian.org/debian" in s.get("URIs", "") \
                    and "security" not in s.get("URIs", ""):
                base = base or s
    if base is None:
        _die(pin, "no Debian `deb` entry under %s to copy; add a deb-src entry for %s yourself"
             % (SOURCES_DIR, pin.suite))
    stanza = dict(base, Types="deb-src", Suites=pin.suite, Components="main")
    path = SOURCES_DIR / ("fastsock-deb-src-%s.sources" % pin.suite)
    with tempfile.NamedTemporaryFile("w", delete=False, suffix=".sources") as tf:
        tf.write("# Added by fastsock's scripts/debsrc.py: source packages for pinned sources.\n")
        tf.write("\n".join("%s: %s" % kv for kv in stanza.items()) + "\n")
    print("fetch-%s: adding %s and running apt-get update" % (pin.name, path), file=sys.stderr)
    if _as_root(pin, ["install", "-m", "644", tf.name, str(path)]).returncode != 0:
        _die(pin, "could not write %s" % path)
    os.unlink(tf.name)
    if _as_root(pin, ["apt-get", "update", "-qq"]).returncode != 0:
        _die(pin, "apt-get update failed")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(pin, dest, keep, probe, dirname=None):
    """Unpack the pinned tarball's paths starting with any of `keep` (relative to its top dir)
    under dest/dirname/top (dirname: the source package's name unless given, e.g. when another
    fetcher already uses that name); `probe` is a file that must exist there. Returns that
    directory."""
    out = pathlib.Path(dest) / (dirname or pin.name)
    root = out / pin.top
    stamp = out / ".fetched"
    if stamp.exists() and stamp.read_text() == pin.sha256 and (root / probe).exists():
        return root
    if shutil.which("apt-get") is None or shutil.which("dpkg-source") is None:
        _die(pin, "needs apt-get and dpkg-dev (Debian); or name a source tree (see the script's help)")
    if not _apt_knows(pin):
        _add_suite(pin)
        if not _apt_knows(pin):
            _die(pin, "apt knows no source package %s=%s (suite %s)" % (pin.name, pin.version, pin.suite))
    with tempfile.TemporaryDirectory(prefix="fastsock-%s-" % pin.name) as tmp:
        os.chmod(tmp, 0o755)  # let apt's _apt user write the download
        print("fetch-%s: apt-get source %s=%s (pinned sha256 %s...)" % (pin.name, pin.name, pin.version,
                                                                      pin.sha256[:12]), file=sys.stderr)
        r = subprocess.run(["apt-get", "source", "--download-only", "-qq", "%s=%s" % (pin.name, pin.version)],
                           cwd=tmp)
        if r.returncode != 0:
            _die(pin, "apt-get source %s=%s failed (is deb.debian.org reachable?)" % (pin.name, pin.version))
        archive = pathlib.Path(tmp) / pin.tarball
        if not archive.exists():
            _die(pin, "%s not downloaded" % pin.tarball)
        got = sha256(archive)
        if got != pin.sha256:
            _die(pin, "%s sha256 mismatch: got %s, pinned %s" % (pin.tarball, got, pin.sha256))
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        prefixes = tuple(pin.top + "/" + k for k in keep)
        with tarfile.open(archive) as tf:
            members = [m for m in tf.getmembers() if m.name.startswith(prefixes)]
            tf.extractall(out, members=members, filter="data")
    if not (root / probe).exists():
        _die(pin, "%s has no %s/%s" % (pin.tarball, pin.top, probe))
    stamp.write_text(pin.sha256)
    return root
