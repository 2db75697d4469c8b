"""Smoke test of the benchmark command: `scripts/bench --quick` into a temporary folder writes
the report (with its targets table), the raw results and the plots, and leaves the README's
results block alone. ~25 s on 2 cores. scripts/bench-lwip once at both board configurations."""

import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PNGS = ("throughput.png", "requests.png", "heap.png", "instructions.png")


def readme_block():
    text = (ROOT / "README.md").read_text()
    return text.partition("<!-- bench:start -->")[2].partition("<!-- bench:end -->")[0]


def test_bench_quick(tmp_path):
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

    # The targets table: a header and one verdict per row.
    section = report.split("## Targets", 1)[1].split("\n## ", 1)[0]
    assert "| target | measured | reference | ratio | verdict |" in section
    rows = [line for line in section.splitlines() if line.startswith("| ") and "verdict" not in line]
    assert len(rows) >= 10, section
    for row in rows:
        assert re.search(r"\*\*(PASS|MISS)\*\*|\| n/a \|$", row), row
    # Both plain-socket variants, urequests, fastsock and the external references appear.
    for name in ("buf += d", "list + join", "urequests 0.9.1", "fastsock `save()`", "CPython http.client", "curl"):
        assert name in report, name

    for png in PNGS:
        data = (out / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000, png
        assert "](%s)" % png in report

    res = json.loads((out / "results.json").read_text())
    assert res["meta"]["mode"] == "quick"
    slot = res["tput"]["cl-%d" % (100 * 1024)]["clients"]["fs_save"]
    assert slot["runs"] and not slot.get("errors"), slot

    # --out elsewhere never touches the README's results block.
    assert readme_block() == block_before


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
