# SPDX-License-Identifier: MIT
"""Every ```python example in README.md and docs/api.md runs as written (issue 13, defect 9).

The blocks are found by parsing the markdown (fenced code blocks whose info string is
`python`), so a new example is picked up and run without touching this file. Each runs in the
three host interpreters (`mp`: host, host32, host-asan) with only its addresses rewritten:

    URL with host                     becomes
    http://192.168.1.10, http://host, http://example.com  (EXAMPLE_HOSTS)
      .../<path> where <path> is a file of the example site (SITE_FILES)
                                      the example site: a local nginx serving SITE_FILES
      .../<anything else>             httpbin (gunicorn, the `httpbin` fixture) at
                                      /anything/<path>, which answers any method with 200
    "/<name.ext>" (a string that is a file path on the device, as in save("/firmware.bin"))
                                      <tmp_path>/<name.ext> (made first with DEVICE_INPUTS'
                                      bytes when an example reads it, as an upload's source)
    a block that uses fastsock. without importing it
                                      gets `import fastsock` first (docs/api.md says it once,
                                      at its top, for the whole page)

Any other http(s) host in a runnable example fails the test (add it to EXAMPLE_HOSTS): nothing
outside 127.0.0.1 is ever contacted. An example that cannot run on the host is listed in
NOT_ON_HOST with the reason (an entry that matches no block, or more than one, fails); the ones
that are programs are still compiled.

Besides running without error (exit 0, no sanitizer report), each example must show an effect
outside the interpreter:
- every URL it names was requested and answered 200 (nginx's access log, gunicorn's);
- every device file path it names that the site serves exists afterwards with the served
  file's sha256 (e.g. the README's r.save("/firmware.bin", ...));
- what it prints, for the examples in OUTPUT_CHECKS (keyed by a piece of their code).
"""

import hashlib
import json
import pathlib
import re
import time
import urllib.parse

import pytest

from conftest import ROOT, sha256_file
from localserver import Nginx

DOCS = ["README.md", "docs/api.md"]

EXAMPLE_HOSTS = {"192.168.1.10", "host", "example.com"}

# The example site's files: what the examples' URLs name (data.json, firmware.bin).
DATA_JSON = {"t": 21.5}
FIRMWARE = hashlib.sha256(b"fastsock example firmware").digest() * (300_001 // 32 + 1)
FIRMWARE = FIRMWARE[:300_001]  # an odd size: the last save() piece is a short one
SITE_FILES = {"data.json": json.dumps(DATA_JSON).encode(), "firmware.bin": FIRMWARE}
# Device files the examples read (an upload's source), made in tmp_path before they run.
DEVICE_INPUTS = {"cam.jpg": bytes(range(256)) * 40}

# Examples that cannot run on the host port, keyed by a piece of code found in exactly one
# block: (reason, whether the block is a program to compile at least).
NOT_ON_HOST = {
    "fastsock.request(method, url, data=None,": ("a signature synopsis, not a program", False),
    "network.WLAN(": ("joins Wi-Fi with the device's `network` module, which the host port does not have", True),
    "machine.Timer(0)": ("`machine.Timer` is the device's; tests/test_callbacks.py schedules the "
                         "same callbacks from a thread on build/host-unix", True),
    "asyncio.run(": (
        "`select` and `asyncio` are MicroPython extmod modules, not in the host port (the core "
        "sdist lacks extmod/); tests/test_client.py drives the same poll ioctl through hostpoll",
        True,
    ),
}


def extract_python_blocks(text):
    """The fenced code blocks of a markdown text whose info string is `python` (or py,
    python3): [(line number of the opening fence, code)]. Fences of ``` or ~~~ (3 or more),
    indented up to 3 spaces as CommonMark allows; the code keeps its own indentation."""
    blocks = []
    fence = None
    for n, line in enumerate(text.splitlines(), 1):
        if fence is None:
            m = re.match(r"^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)", line)
            if m:
                fence, indent, info, start, code = m.group(2), len(m.group(1)), m.group(3).lower(), n, []
        elif re.match(r"^ {0,3}%s%s*\s*$" % (re.escape(fence), re.escape(fence[0])), line):
            if info in ("python", "py", "python3"):
                blocks.append((start, "\n".join(code) + "\n"))
            fence = None
        else:
            code.append(line[indent:] if line[:indent].strip() == "" else line.lstrip())
    return blocks


def all_examples():
    out = []
    for doc in DOCS:
        for line, code in extract_python_blocks((ROOT / doc).read_text()):
            out.append(("%s:%d" % (doc, line), code))
    return out


EXAMPLES = all_examples()


def not_on_host(code):
    hits = [key for key in NOT_ON_HOST if key in code]
    return NOT_ON_HOST[hits[0]] if hits else None


RUNNABLE = [(name, code) for name, code in EXAMPLES if not_on_host(code) is None]

URL = re.compile(r"""(["'])(https?://[^"'\s]+)\1""")
DEVICE_PATH = re.compile(r"""(["'])(/[\w\-]+\.\w+)\1""")


def rewrite(code, site, httpbin, tmp_path):
    """The example with its URLs and device file paths pointed at local servers and tmp_path
    (see the module's docstring). Returns (code, [(server, path)], {device path: local path})."""
    urls = []
    files = {}

    def url(m):
        u = urllib.parse.urlsplit(m.group(2))
        assert u.hostname in EXAMPLE_HOSTS, "example URL %s: add its host to EXAMPLE_HOSTS" % m.group(2)
        path = u.path or "/"
        target = path + ("?" + u.query if u.query else "")
        if path.lstrip("/") in SITE_FILES:
            urls.append(("site", path))
            new = site.url(target)
        else:
            where = "/anything" + ("" if path == "/" else path)  # httpbin has no /anything/
            urls.append(("httpbin", where))
            new = httpbin.url(where + ("?" + u.query if u.query else ""))
        return m.group(1) + new + m.group(1)

    def device_path(m):
        local = str(tmp_path / m.group(2).lstrip("/"))
        files[m.group(2)] = pathlib.Path(local)
        if m.group(2).lstrip("/") in DEVICE_INPUTS:
            pathlib.Path(local).write_bytes(DEVICE_INPUTS[m.group(2).lstrip("/")])
        return m.group(1) + local + m.group(1)

    code = URL.sub(url, code)
    code = DEVICE_PATH.sub(device_path, code)
    if re.search(r"\bfastsock\.", code) and not re.search(r"^\s*import\b.*\bfastsock\b", code, re.M):
        code = "import fastsock\n" + code
    for bad in ("192.168.", "example.com", "://host"):
        assert bad not in code, "not rewritten: %r in\n%s" % (bad, code)
    return code, urls, files


def _progress(out, ctx):
    # r.save(..., progress=lambda done, total: print(done, total)): "done total" lines, done
    # rising to total, total the file's size, and the end reported once.
    pairs = [tuple(int(x) for x in line.split()) for line in out.splitlines() if re.fullmatch(r"\d+ \d+", line)]
    assert pairs, "no progress printed:\n" + out
    dones = [d for d, _ in pairs]
    assert dones == sorted(dones), pairs
    assert {t for _, t in pairs} == {len(FIRMWARE)}, pairs
    assert pairs[-1] == (len(FIRMWARE), len(FIRMWARE)), pairs[-1]
    assert len(set(dones)) == len(dones), "progress reported the same count twice: %s" % pairs[-4:]


def _data_json(out, ctx):
    # print(r.status_code, r.headers["Content-Type"], r.json())
    assert out.splitlines()[0] == "200 application/json %r" % DATA_JSON, out


def _status_type_length(out, ctx):
    # print(r.status_code, r.headers["content-type"], len(r.content))
    status, ctype, length = out.split()
    assert (status, ctype) == ("200", "application/json") and int(length) > 0, out


OUTPUT_CHECKS = {
    "progress=lambda done, total: print(done, total)": _progress,
    'r.headers["Content-Type"], r.json()': _data_json,
    'r.headers["content-type"], len(r.content)': _status_type_length,
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("example-site")
    for name, data in SITE_FILES.items():
        (root / name).write_bytes(data)
    with Nginx(root, access_log=True) as srv:
        srv.files = root
        yield srv


def _wait_for_requests(site, httpbin, before, urls):
    """Wait (at most 5 s: each server logs a request just after answering it) until every
    (server, path) in urls was answered 200 since `before`; returns what is missing."""
    deadline = time.monotonic() + 5
    while True:
        seen = {("site", r["uri"], r["status"]) for r in site.requests()[before[0] :]}
        seen |= {("httpbin", r["path"], r["status"]) for r in httpbin.requests()[before[1] :]}
        missing = [(server, path) for server, path in urls if (server, path, 200) not in seen]
        if not missing or time.monotonic() > deadline:
            return missing, seen
        time.sleep(0.05)


@pytest.mark.parametrize("name,code", RUNNABLE, ids=[name for name, _ in RUNNABLE])
def test_example_runs_as_written(name, code, mp, site, httpbin, tmp_path):
    local, urls, files = rewrite(code, site, httpbin, tmp_path)
    before = (len(site.requests()), len(httpbin.requests()))
    out = mp.run(local, tmp_path, timeout=60)
    missing, seen = _wait_for_requests(site, httpbin, before, urls)
    assert not missing, "%s: not requested (or not answered 200): %s; the servers saw %s" % (name, missing, seen)
    for device, path in files.items():
        if path.name in SITE_FILES:
            assert path.exists(), "%s: %s (as %s) was not written" % (name, device, path)
            assert sha256_file(path) == hashlib.sha256(SITE_FILES[path.name]).hexdigest(), "%s: %s differs" % (
                name,
                device,
            )
    checked = [check for key, check in OUTPUT_CHECKS.items() if key in code]
    for check in checked:
        check(out, None)
    assert urls or files or checked, "%s shows no effect outside the interpreter: add an OUTPUT_CHECKS entry" % name


def test_examples_not_run_on_host_are_listed_with_a_reason():
    # Each NOT_ON_HOST entry names exactly one block (a stale or ambiguous entry fails), and
    # the blocks that are programs at least compile.
    for key, (reason, program) in NOT_ON_HOST.items():
        hits = [(name, code) for name, code in EXAMPLES if key in code]
        assert len(hits) == 1, "NOT_ON_HOST %r (%s) matches %d blocks: %s" % (key, reason, len(hits), hits)
        if program:
            compile(hits[0][1], hits[0][0], "exec")


def test_every_output_check_names_a_runnable_example():
    for key in OUTPUT_CHECKS:
        assert [name for name, code in RUNNABLE if key in code], "OUTPUT_CHECKS %r matches no runnable example" % key


def test_examples_found_in_both_docs():
    # The parser finds the docs' blocks (python ones only: README's ```sh blocks are not code
    # to run here), and one synthetic case of each fence form.
    assert {name.split(":")[0] for name, _ in EXAMPLES} == set(DOCS)
    assert all("make run" not in code for _, code in EXAMPLES)
    text = (
        "x\n```python\na = 1\n```\n\n  ~~~~ py\n  if a:\n      b = 2\n  ~~~~\n```sh\nls\n```\n````python\n```\n````\n"
    )
    assert extract_python_blocks(text) == [(2, "a = 1\n"), (6, "if a:\n    b = 2\n"), (13, "```\n")]
