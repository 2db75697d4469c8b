# SPDX-License-Identifier: MIT
"""The benchmark command: `scripts/bench --quick` into a temporary folder runs (a quick run's
figures say nothing about fastsock), writes the report, the raw results and the plots, leaves the
README's results block alone, and every verdict in its targets table follows from the figures
in results.json by the target's own rule, recomputed here independently (and those figures from
the raw runs). ~30 s on 2 cores. scripts/bench-lwip once at both board configurations."""

import json
import pathlib
import re
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PNGS = ("throughput.png", "requests.png", "heap.png", "instructions.png")
sys.path.insert(0, str(ROOT / "scripts" / "benchlib"))
from bench_report import BASELINES, LABELS  # noqa: E402


def readme_block():
    text = (ROOT / "README.md").read_text()
    return text.partition("<!-- bench:start -->")[2].partition("<!-- bench:end -->")[0]


def expected_verdict(checks):
    # The rule, written again: measured (median, min, max) OP k x reference (median, min, max).
    # PASS only if the whole measured range clears k x the whole reference range, MISS if it is
    # wholly on the wrong side, otherwise the ranges overlap the boundary.
    if not checks:
        return "n/a"
    got = []
    for c in checks:
        m, r = c["measured"], c["reference"]
        if m is None or r is None:
            return "n/a"
        m = m if isinstance(m, list) else [m, m, m]
        r = r if isinstance(r, list) else [r, r, r]
        lo, hi = min(m[1:]), max(m[1:])
        rlo, rhi = c["k"] * min(r[1:]), c["k"] * max(r[1:])
        if c["op"] == ">=":
            got.append("PASS" if lo >= rhi else "MISS" if hi < rlo else "overlaps")
        else:
            assert c["op"] == "<=", c
            got.append("PASS" if hi <= rlo else "MISS" if lo > rhi else "overlaps")
    return "MISS" if "MISS" in got else "overlaps" if "overlaps" in got else "PASS"


def spread(xs):
    return [statistics.median(xs), min(xs), max(xs)]


def raw_figure(res, target, side):
    """The (median, min, max) a throughput / requests-per-second / instructions row should show,
    recomputed from the raw runs; None for other rows."""
    by_label = {v: k for k, v in LABELS.items() if k in ("fs_save", "fs_readinto", "fs_content", "fs_session")}
    m = re.match(r".+? download \((Content-Length|chunked)\), (.+): MB/s", target)
    if m:
        case = res["tput"]["%s-%d" % ("cl" if m.group(1) == "Content-Length" else "chunked", res["meta"]["big"])]
        client = by_label[m.group(2)] if side == "measured" else "curl"
        return spread([r["bytes"] / r["us"] for r in case["clients"][client]["runs"]])
    m = re.match(r"[\d,]+ small GETs .*\((\d+) (KB|MB) heap\), (.+)$", target)
    if m:
        heap = int(m.group(1)) * (1024 if m.group(2) == "KB" else 1024 * 1024)

        def rps(client):
            key = ("ka-%d" if client == "fs_session" else "nc-%d") % heap
            runs = res["many"][key]["clients"].get(client, {}).get("runs")
            return spread([(r["bytes"] // 1024) * 1e6 / r["us"] for r in runs]) if runs else None

        if side == "measured":
            return rps(by_label[m.group(3)])
        # The strongest requests-style baseline: the highest median req/s.
        return max(filter(None, (rps(c) for c in BASELINES)), key=lambda s: s[0])
    m = re.match(r"Instructions per 1 KB GET ≤ [\d.]+× (the best requests-style baseline|plain socket) \((.+)\), "
                 r"(.+)$", target)
    if m:
        cg = res["callgrind"][m.group(2)]
        if side == "measured":
            return cg[by_label[m.group(3)]]["ir"]
        if m.group(1) != "plain socket":
            return min(cg[c]["ir"] for c in BASELINES if "ir" in cg.get(c, {}))
        return min(cg["concat"]["ir"], cg["join"]["ir"])
    return None


def check_targets(report, res):
    section = report.split("## Targets", 1)[1].split("\n## ", 1)[0]
    assert "| target | comparison | measured | reference | ratio | verdict |" in section
    rows = [line for line in section.splitlines() if line.startswith("| ") and "| verdict |" not in line]
    records = res["targets"]
    assert len(rows) == len(records) >= 20, section
    judged_like = 0
    for row, rec in zip(rows, records, strict=True):
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[0] == rec["target"], (cells[0], rec["target"])
        printed = cells[-1].strip("*")
        for c in rec["checks"]:
            for side in ("measured", "reference"):
                raw = raw_figure(res, rec["target"], side)
                if raw is None:
                    continue
                fig = c[side] if isinstance(c[side], list) else [c[side]] * 3
                raw = raw if isinstance(raw, list) else [raw] * 3
                assert all(abs(a - b) <= 1e-9 * abs(b) for a, b in zip(fig, raw, strict=True)), (
                    rec["target"], side, fig, raw)
        if rec["comparison"].startswith("what users get"):
            # Shown, never judged: a keep-alive Session against clients that cannot keep one.
            assert printed == "not judged" and not rec["judged"], row
            continue
        assert rec["judged"], row
        assert printed == expected_verdict(rec["checks"]), (row, rec["checks"])
        judged_like += rec["comparison"].startswith("like for like")
    # The comparisons with urequests and the plain socket are judged like for like only.
    assert judged_like >= 3 + 2 + 2 * len(res["callgrind"]), judged_like
    for rec in records:
        if "requests-style baseline" in rec["target"] or "plain socket (" in rec["target"]:
            assert ("Session" in rec["target"]) == (not rec["judged"]), rec["target"]


def test_bench_quick_runs_and_verdicts_match_figures(tmp_path):
    out = tmp_path / "bench"
    block_before = readme_block()
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench"), "--quick", "--out", str(out)],
                       capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, "scripts/bench --quick failed:\n%s\n%s" % (p.stdout[-3000:], p.stderr[-3000:])
    assert "[bench " in p.stderr, "no progress lines on stderr"

    report = (out / "report.md").read_text()
    assert report.startswith("# fastsock benchmark report")
    assert "Quick smoke run" in report
    for field in ("Machine:", "Commit:", "MicroPython:", "fastsock", "nginx", "curl", "CPython"):
        assert field in report, field

    res = json.loads((out / "results.json").read_text())
    # Every verdict follows from its figures, and the figures from the raw runs.
    check_targets(report, res)
    # Every client's body was checked against the served body's sha256.
    verified = res["verified"]
    # requests 1.1.1 and 0.10.2 are measured where their sources are found (the rig's checkout or
    # $FASTSOCK_SOURCES); a quick run without them names them in results.json and the report.
    missing = res.get("baselines_missing", [])
    assert all("requests %s" % v not in report.split("## Targets")[1].split("## Throughput")[0]
               for v in ("0.10.2", "1.1.1") if ("requests" + v.replace(".", "")) in missing)
    for name in ("plain socket, list + join", "urequests 0.9.1", "fastsock .content", "fastsock save()",
                 "fastsock readinto loop", "fastsock Session .content", "CPython http.client", "curl",
                 *[LABELS[c] for c in BASELINES if c not in missing]):
        assert any(k.startswith(name) and n > 0 for k, n in verified.items()), (name, verified)
    if missing:
        assert any("baselines not run in this quick run" in n for n in res["notes"]), res["notes"]
    # Where the instructions go: per part, adding up to the client's per-request figure.
    for conf in res["callgrind_breakdown"]["configs"].values():
        for c, r in conf.items():
            assert abs(sum(r["parts"].values()) - r["total"]) < 1, (c, r)
    assert "## Where the instructions go" in report
    # The memory table adds the C heap: fastsock's receive buffer is outside the GC heap.
    assert res["alloc"]["32-bit"]["100 KB"]["fs_content"]["c_peak"] > 0
    assert "C heap peak, 32-bit" in report
    # Both plain-socket variants, urequests, fastsock and the external references appear.
    for name in ("buf += d", "list + join", "urequests 0.9.1", "fastsock `save()`", "CPython http.client", "curl"):
        assert name in report, name

    for png in PNGS:
        data = (out / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000, png
        assert "](%s)" % png in report

    assert res["meta"]["mode"] == "quick"
    slot = res["tput"]["cl-%d" % (100 * 1024)]["clients"]["fs_save"]
    assert slot["runs"] and not slot.get("errors"), slot

    # --out elsewhere never touches the README's results block.
    assert readme_block() == block_before


def test_bench_without_requests_sources_fails_and_writes_nothing(tmp_path):
    # A full run needs micropython-lib's requests: without a sources directory or a rig it stops
    # before measuring anything, names every place it looked and how to point at one, and
    # writes nothing (the committed results stay as they are).
    env = {k: v for k, v in __import__("os").environ.items() if k != "FASTSOCK_SOURCES"}
    env["FASTSOCK_RIG"] = str(tmp_path / "no-rig")
    out = tmp_path / "bench"
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench"), "--out", str(out)],
                       capture_output=True, text=True, timeout=60, env=env)
    assert p.returncode != 0, p.stdout + p.stderr
    for what in ("requests 1.1.1", "requests 0.10.2", str(tmp_path / "no-rig"), "--sources DIR",
                 "$FASTSOCK_SOURCES", "Nothing was measured or written"):
        assert what in p.stderr, (what, p.stderr)
    assert not out.exists()


def test_bench_lwip_runs_both_board_configurations():
    # scripts/bench-lwip (root: namespace + TAP) once per configuration, 1 MB, 1 run: each
    # reports its board's TCP_WND, and save() copies nothing there.
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench-lwip"), "--runs", "1", "--size-mb", "1"],
                       capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, "scripts/bench-lwip failed:\n%s\n%s" % (p.stdout[-3000:], p.stderr[-3000:])
    summaries = re.findall(r"\((board|SPIRAM): TCP_WND (\d+), MSS 1440\).*?bytes_copied (\d+), peak_buffered (\d+)",
                           p.stdout, re.S)
    import lwip_net as L
    want = [(name, L.board_options(L.LWIP_BUILDS[name][0])["CONFIG_LWIP_TCP_WND_DEFAULT"]) for name in L.BENCH_BUILDS]
    assert [(name, int(wnd)) for name, wnd, _, _ in summaries] == want, p.stdout
    for name, wnd, copied, peak in summaries:
        assert int(copied) == 0, f"{name}: save() copied {copied} bytes"
        assert 0 < int(peak) <= int(wnd) + 4096, f"{name}: peak_buffered {peak}"
