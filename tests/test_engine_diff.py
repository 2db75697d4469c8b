# SPDX-License-Identifier: MIT
"""Differential test: the engine against llhttp (C, built at test time from the pinned PyPI
sdist) and h11 (pure Python) on one corpus: realistic heads (tests/corpus/heads), hand-written
edge cases, and seeded generated and mutated responses (tests/engine_support.py).

Compared: verdict (ok / error / incomplete), status, version, reason, headers, interim 1xx
count, decoded body; body framing and keep-alive against llhttp (and h11 for HTTP/1.1).
Every disagreement must be explained by one entry of DIFFERENCES (also in docs/engine.md),
and every entry must be needed by at least one case, so the list stays honest.
"""

import collections
import json
import re
import subprocess

import h11
import pytest

import engine_support as es

# ---------------------------------------------------------------------------------------
# Runners


def run_driver(exe, cases, tmp_path, extra=()):
    args = []
    for i, (_, data, head) in enumerate(cases):
        p = tmp_path / f"{i}.bin"
        p.write_bytes(data)
        args.append(("h:" if head else "g:") + str(p))
    res = subprocess.run([str(exe), *extra, *args], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"{exe.name} failed: {res.stderr[-3000:]}"
    out = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(out) == len(cases), f"{exe.name}: {len(out)} results for {len(cases)} cases"
    return out


def run_h11(data, head_request):
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="HEAD" if head_request else "GET", target="/",
                          headers=[("Host", "example.com")]))
    conn.send(h11.EndOfMessage())
    if data:
        conn.receive_data(data)  # b"" would mean end of input to h11
    eof, res, body, interim = False, None, b"", 0
    try:
        while True:
            ev = conn.next_event()
            if ev is h11.NEED_DATA:
                if eof:
                    return {"verdict": "incomplete"}
                eof = True
                conn.receive_data(b"")  # end of input: completes close-delimited bodies
            elif isinstance(ev, h11.InformationalResponse):
                interim += 1
            elif isinstance(ev, h11.Response):
                res = ev
            elif isinstance(ev, h11.Data):
                body += ev.data
            elif isinstance(ev, h11.EndOfMessage):
                break
    except h11.ProtocolError as e:
        return {"verdict": "incomplete" if eof else "error", "why": str(e)}
    return {"verdict": "ok", "status": res.status_code, "version": res.http_version.decode(),
            "reason": res.reason.decode("latin-1"),
            "headers": [[n.decode("latin-1"), v.decode("latin-1")]
                        for n, v in res.headers.raw_items()],
            "keep_alive": int(conn.their_state is h11.DONE and not eof), "interim": interim,
            "body": body.hex()}


# ---------------------------------------------------------------------------------------
# Documented deliberate differences. Each: (key, reason, predicate(case) -> bool), where the
# case has .data, .fs, .ll, .h1 (results) and .head (the bytes up to the final head's end).
# A predicate matches only the difference its reason names: where the reason says an oracle
# agrees with the engine, the predicate requires that agreement (agrees() below), so an
# excuse for one oracle's behaviour cannot hide an engine result that both would reject.

def all_heads(data):
    """Bytes up to the end of the final head, 1xx heads included."""
    head = final_head(data)
    i = data.find(head)
    return data[:i + len(head)] if i >= 0 else data


def final_head(data):
    """Bytes of the last head in data (after 1xx heads), up to its blank line."""
    m = re.search(rb"\n\r?\n", data)
    head = data[:m.end()] if m else data
    while m and re.match(rb"HTTP/\d\.\d 1\d\d", head) and not head.startswith(b"HTTP/1.1 101"):
        rest = data[m.end():]
        m2 = re.search(rb"\n\r?\n", rest)
        if not m2:
            return rest
        data, head, m = rest, rest[:m2.end()], m2
    return head


def verdicts(c):
    return c.fs["verdict"], c.ll["verdict"], c.h1["verdict"]


# Engine codes (cmodules/fastsock/fs_error.h) the excuses below name.
SYNTAX, BAD_LENGTH, BAD_CHUNK, UNSUPPORTED = -1001, -1005, -1006, -1008
CTL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
BARE_LF = re.compile(rb"(?<!\r)\n")
FOLD = re.compile(rb"\n[ \t]")


def is_chunked(head):
    return re.search(rb"(?im)^transfer-encoding:[ \t]*chunked[ \t]*\r?$", head) is not None


def agrees(fs, oracle, ignore=()):
    """fastsock's result agrees with an oracle's: the same verdict and, for a response both
    read, the same contents (but the fields in ignore)."""
    if fs["verdict"] != oracle["verdict"]:
        return False
    if fs["verdict"] != "ok":
        return True
    a, b = contents(fs), contents(oracle)
    return all(a[k] == b[k] for k in a if k not in ignore)


def has_field(name, head):
    return re.search(rb"(?i)\n" + name + rb":", head) is not None


def cl_list_as_h11(c):
    """fastsock reads what h11 reads; h11 folds the equal Content-Length values into one field
    (fastsock keeps the fields as sent), so only those fields may differ."""
    if not agrees(c.fs, c.h1, ignore=("headers",)) or c.fs["keep_alive"] != c.h1["keep_alive"]:
        return False
    others = [[[n, v] for n, v in r["headers"] if n.lower() != "content-length"] for r in (c.fs, c.h1)]
    return others[0] == others[1]


def te_and_cl(c):
    """llhttp refuses Transfer-Encoding with Content-Length; fastsock reads the chunked body
    exactly as h11 does (status, headers, body) and does not reuse the connection (h11 would)."""
    return (has_field(b"content-length", c.head) and has_field(b"transfer-encoding", c.head)
            and c.ll["verdict"] == "error"
            and c.ll["why"] == "Transfer-Encoding can't be present with Content-Length"
            and c.fs["verdict"] == "ok" and c.fs["body_kind"] == "chunked" and c.fs["keep_alive"] == 0
            and agrees(c.fs, c.h1))


def http_version(c):
    """HTTP/1.2..1.9: read as 1.1, as h11 reads it (its version field says 1.2; everything else
    and keep-alive equal); llhttp refuses it. Any other major version (0.9, 2.0): refused as
    malformed, where llhttp and h11 both read a response."""
    m = re.match(rb"HTTP/(\d)\.(\d) ", c.head)
    if not m or m.group(1) == b"1" and m.group(2) in b"01":
        return False
    if m.group(1) == b"1":
        return (c.ll["verdict"] == "error" and c.ll["why"] == "Invalid HTTP version"
                and c.fs["verdict"] == "ok" and c.fs["version"] == "1.1"
                and agrees(c.fs, c.h1, ignore=("version",)) and c.fs["keep_alive"] == c.h1["keep_alive"])
    return (c.fs["verdict"] == "error" and c.fs["code"] == SYNTAX
            and c.ll["verdict"] == "ok" and c.h1["verdict"] == "ok")


DIFFERENCES = [
    ("partial-head",
     "llhttp validates while the head streams in; the engine (like h11) parses fields only once "
     "the whole head is in, so a truncated malformed head is INCOMPLETE, not an error, until "
     "its end or FS_MAX_HEAD_BYTES arrives.",
     lambda c: verdicts(c) == ("incomplete", "error", "incomplete")),
    ("control-bytes",
     "Control bytes (other than HT) and DEL in field values and the reason phrase are rejected "
     "(RFC 9110 5.5 field-vchar; llhttp rejects them in values too). h11 accepts anything but "
     "NUL and whitespace; llhttp accepts any byte in the reason phrase.",
     lambda c: c.fs["verdict"] == "error" and c.fs["code"] == SYNTAX and CTL.search(c.heads)),
    ("obs-fold",
     "obs-fold (a line starting with SP/HT) is rejected (RFC 9112 5.2 lets a recipient reject "
     "it; llhttp does). h11 unfolds it.",
     lambda c: c.fs["verdict"] == "error" and c.fs["code"] == SYNTAX and FOLD.search(c.heads)
     and c.ll["verdict"] == "error"),
    ("huge-sizes",
     "Content-Length above 2^64-1 and chunk sizes above 15 significant hex digits are errors "
     "(llhttp: overflow errors too). h11 has unbounded integers and waits for the body.",
     lambda c: verdicts(c)[:2] == ("error", "error") and c.fs["code"] in (BAD_LENGTH, BAD_CHUNK)
     and re.search(rb"[0-9a-fA-F]{16}", c.data)),
    ("early-reject",
     "Bytes that cannot start \"HTTP/\" fail at once, and a chunk-size line fails at its first "
     "bad byte (llhttp likewise); h11 waits for a whole line first, so it sees a truncated "
     "message.",
     lambda c: verdicts(c) == ("error", "error", "incomplete")
     and (not c.data.startswith(b"HTTP/"[:len(c.data)]) or c.fs["code"] in (BAD_CHUNK, SYNTAX)
          and is_chunked(c.head) or c.fs["code"] == SYNTAX and not re.match(rb"HTTP/", c.data))),
    ("unknown-coding",
     "A transfer coding other than a single final \"chunked\" (gzip, chunked twice, ...) is "
     "FS_ERR_UNSUPPORTED: the client asks for identity and cannot decode it. llhttp reads such a "
     "body until close; h11 rejects it too.",
     lambda c: c.fs["verdict"] == "error" and c.fs["code"] == UNSUPPORTED and c.h1["verdict"] == "error"),
    ("te-without-body",
     "Transfer codings are only checked when a body follows: a HEAD, 204 or 304 response with "
     "Transfer-Encoding: gzip is fine (llhttp agrees); h11 rejects it.",
     lambda c: c.fs["verdict"] == "ok" and c.fs["body_kind"] == "none" and agrees(c.fs, c.ll)
     and c.h1["verdict"] == "error" and re.search(rb"(?i)\ntransfer-encoding:", c.head)),
    ("interim-connection",
     "Connection: close on a 1xx head does not end the exchange; the final response is read "
     "(h11 agrees). llhttp treats the bytes after such a 1xx as data after close.",
     lambda c: c.fs["verdict"] == "ok" and c.fs["interim"] > 0 and c.ll["verdict"] == "error"
     and agrees(c.fs, c.h1)
     and re.search(rb"(?i)\nconnection:[^\n]*close", c.heads[:len(c.heads) - len(c.head)])),
    ("http-version",
     "Only HTTP/1.x is accepted; HTTP/1.2+ is read as 1.1 (RFC 9112 2.3). llhttp rejects 1.2 "
     "and accepts 0.9/2.0; h11 accepts any d.d.",
     http_version),
    ("leading-crlf",
     "Empty lines before the status line are rejected (RFC 9112 2.2 allows skipping them before "
     "a request-line only); llhttp skips them, h11 rejects.",
     lambda c: c.data[:1] in (b"\r", b"\n") and c.fs["verdict"] == "error" and c.h1["verdict"] == "error"),
    ("te-and-cl",
     "Transfer-Encoding with Content-Length: chunked wins (RFC 9112 6.3) and the connection is "
     "not reused. llhttp's strict mode rejects the message; h11 agrees with the engine.",
     te_and_cl),
    ("cl-list",
     "Repeated or comma-listed Content-Length values that are all equal are accepted (RFC 9110 "
     "8.6 MAY; h11 does the same); llhttp rejects them.",
     lambda c: c.fs["verdict"] != "error" and c.ll["verdict"] == "error" and cl_list_as_h11(c)
     and (len(re.findall(rb"(?i)\ncontent-length:", c.head)) > 1
          or re.search(rb"(?i)\ncontent-length:[^\n]*,", c.head))),
    ("bare-lf",
     "A bare LF ends a head line (RFC 9112 2.2 MAY; h11 does the same); llhttp's strict mode "
     "requires CR LF. Chunked framing still requires CR LF.",
     lambda c: c.ll["verdict"] == "error" and c.fs["verdict"] != "error" and agrees(c.fs, c.h1)
     and BARE_LF.search(c.head)),
    ("unsolicited-101",
     "A 101 head is returned (body NONE, no reuse) and the caller decides; h11 refuses a 101 the "
     "client did not ask for.",
     lambda c: c.fs["verdict"] == "ok" and c.fs["status"] == 101 and c.h1["verdict"] == "error"),
    ("status-range",
     "Status codes must be 100..999; llhttp takes 0xx for an interim response and waits.",
     lambda c: c.fs["verdict"] == "error" and re.match(rb"HTTP/1\.\d 0\d\d", c.head)),
]

# Differences in keep-alive only (verdicts and contents agree).
KEEPALIVE_DIFFERENCES = [
    ("close-wins",
     "\"Connection: close\" wins over \"keep-alive\" in any order; llhttp lets the last one win.",
     lambda c: re.search(rb"(?i)\nconnection:[^\n]*close", c.head)
     and re.search(rb"(?i)\nconnection:[^\n]*keep-alive", c.head)),
    ("te-in-http10",
     "HTTP/1.0 with Transfer-Encoding: decoded, then the connection closes (RFC 9112 6.1); "
     "llhttp keeps a 1.0 keep-alive connection.",
     lambda c: c.head.startswith(b"HTTP/1.0") and re.search(rb"(?i)\ntransfer-encoding:", c.head)),
]


class Case:
    def __init__(self, name, data, head_request, fs, ll, h1):
        self.name, self.data, self.head_request = name, data, head_request
        self.fs, self.ll, self.h1 = fs, ll, h1
        self.head = final_head(data)
        self.heads = all_heads(data)


def explain(c, table):
    for key, _, pred in table:
        if pred(c):
            return key
    return None


def contents(r):
    keys = ("status", "version", "reason", "headers", "interim", "body")
    out = {k: r[k] for k in keys}
    # h11 lowercases Transfer-Encoding values; codings are case-insensitive anyway
    out["headers"] = [[n, v.lower() if n.lower() == "transfer-encoding" else v]
                      for n, v in r["headers"]]
    return out


def compare(c):
    """None if the three agree, else a description of the disagreement."""
    v = verdicts(c)
    if len(set(v)) > 1:
        return f"verdicts fs/llhttp/h11 = {v}: {c.fs.get('why')} | {c.ll.get('why')} | " \
               f"{c.h1.get('why')}"
    if v[0] != "ok":
        return None
    a, b, h = contents(c.fs), contents(c.ll), contents(c.h1)
    if a != b or a != h:
        diff = {k: (a[k], b[k], h[k]) for k in a if not a[k] == b[k] == h[k]}
        return f"contents differ: {diff}"
    return None


def ka_compare(c):
    if verdicts(c) != ("ok", "ok", "ok"):
        return None
    bad = []
    if c.fs["keep_alive"] != c.ll["keep_alive"]:
        bad.append(f"keep_alive fs={c.fs['keep_alive']} llhttp={c.ll['keep_alive']}")
    if c.fs["version"] == "1.1" and c.fs["keep_alive"] != c.h1["keep_alive"]:
        bad.append(f"keep_alive fs={c.fs['keep_alive']} h11={c.h1['keep_alive']}")
    if c.fs["body_kind"] != c.ll["body_kind"]:
        bad.append(f"body_kind fs={c.fs['body_kind']} llhttp={c.ll['body_kind']}")
    return "; ".join(bad) or None


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    build = es.build_engine()
    llhttp = es.build_llhttp_driver()
    cases = es.corpus()
    tmp = tmp_path_factory.mktemp("diff")
    fs = run_driver(build / "fs_driver", cases, tmp)
    fs_split = run_driver(build / "fs_driver", cases, tmp, extra=["--split=7"])
    ll = run_driver(llhttp, cases, tmp)
    for r in ll:
        if r["verdict"] == "ok":
            # llhttp hands over values with trailing OWS; RFC 9110 5.5 excludes it
            r["headers"] = [[n, v.rstrip(" \t")] for n, v in r["headers"]]
    h1 = [run_h11(d, h) for _, d, h in cases]
    out = [Case(n, d, h, a, b, c) for (n, d, h), a, b, c in zip(cases, fs, ll, h1)]
    return out, fs_split


def test_corpus_size(results):
    cases, _ = results
    assert len(cases) >= 200
    assert sum(c.fs["verdict"] == "ok" for c in cases) >= 150


def test_split_feeding_agrees(results):
    cases, split = results
    bad = [(c.name, c.fs, s) for c, s in zip(cases, split) if c.fs != s]
    assert not bad, f"engine results depend on segmenting: {bad[:3]}"


def test_against_llhttp_and_h11(results):
    cases, _ = results
    used, unexplained = collections.Counter(), []
    for c in cases:
        why = compare(c)
        if why:
            key = explain(c, DIFFERENCES)
            if key is None:
                unexplained.append(f"{c.name}: {why}\n    input: {c.data[:160]!r}")
            used[key] += 1
        why = ka_compare(c)
        if why:
            key = explain(c, KEEPALIVE_DIFFERENCES)
            if key is None:
                unexplained.append(f"{c.name}: {why}\n    input: {c.data[:160]!r}")
            used["ka:" + str(key)] += 1
    print("differences explained:", dict(used.most_common()))
    assert not unexplained, "unexplained differences:\n" + "\n".join(unexplained)
    unused = [k for k, _, _ in DIFFERENCES if k not in used]
    unused += [k for k, _, _ in KEEPALIVE_DIFFERENCES if "ka:" + k not in used]
    assert not unused, f"documented differences no case needs (remove or add a case): {unused}"


def test_agreement_is_substantial(results):
    cases, _ = results
    agree = sum(compare(c) is None and ka_compare(c) is None for c in cases)
    assert agree >= 0.75 * len(cases), f"only {agree}/{len(cases)} cases agree fully"
