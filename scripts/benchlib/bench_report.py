# SPDX-License-Identifier: MIT
"""Turns scripts/bench's results into report.md, PNG plots and the README results block.

    write(results, out_dir)      report.md + throughput.png, requests.png, heap.png, instructions.png
    update_readme(results, path) the block between <!-- bench:start --> and <!-- bench:end -->
    python3 bench_report.py results.json OUT_DIR [README.md]    (re-render without re-measuring)
"""

import json
import math
import pathlib
import statistics
import sys

KB, MB = 1024, 1024 * 1024
MARK_START, MARK_END = "<!-- bench:start -->", "<!-- bench:end -->"

LABELS = {
    "concat": "plain socket, `buf += d`",
    "join": "plain socket, list + join",
    "urequests": "urequests 0.9.1",
    "requests0102": "requests 0.10.2",
    "requests111": "requests 1.1.1",
    "urequests_fs": "urequests 0.9.1, fastsock imported but unused",
    "fs_content": "fastsock `.content`",
    "fs_session": "fastsock Session `.content`",
    "fs_readinto": "fastsock `readinto` loop",
    "fs_save": "fastsock `save()`",
    "lwip_save": "fastsock `save()`, lwIP over slirp",
    "lwip_content": "fastsock `.content`, lwIP over slirp",
    "lwip_session": "fastsock Session, lwIP over slirp",
    "netconn_slirp": "bare netconn loop, lwIP over slirp",
    "lwip_tap_save": "fastsock `save()`, lwIP over TAP",
    "netconn_tap": "bare netconn loop, lwIP over TAP",
    "cpython": "CPython http.client",
    "cpython_ka": "CPython http.client",
    "curl": "curl",
    "curl_ka": "curl",
}
COLOURS = {
    "concat": "#8c564b", "join": "#d62728", "urequests": "#ff7f0e", "urequests_fs": "#ffbb78",
    "requests0102": "#e6550d", "requests111": "#fdae6b",
    "fs_content": "#1f77b4",
    "fs_session": "#17becf", "fs_readinto": "#2ca02c", "fs_save": "#9467bd", "lwip_save": "#bcbd22",
    "lwip_content": "#bcbd22", "lwip_session": "#bcbd22", "netconn_slirp": "#7f7f7f",
    "lwip_tap_save": "#e377c2", "netconn_tap": "#c7c7c7", "cpython": "#393b79", "cpython_ka": "#393b79",
    "curl": "#000000", "curl_ka": "#000000",
}


# The requests-style baselines: urequests 0.9.1 (PyPI, 2018, HTTP/1.0), micropython-lib requests
# 0.10.2 (frozen into MicroPython v1.28.0's esp32 port, HTTP/1.0) and 1.1.1 (the newest: HTTP/1.1,
# chunked). Targets are judged against the strongest of those measured.
BASELINES = ("urequests", "requests0102", "requests111")
BASELINE_TEXT = {
    "urequests": "urequests 0.9.1 (PyPI, 2018)",
    "requests0102": "micropython-lib requests 0.10.2 (frozen into MicroPython v1.28.0's esp32 port)",
    "requests111": "requests 1.1.1 (micropython-lib's newest: HTTP/1.1, chunked)",
}
BASELINE_WORDS = "the best of urequests 0.9.1, requests 0.10.2 and requests 1.1.1"


def strongest(figures, higher):
    """(client, figure) of the strongest baseline among {client: figure or (median, min, max)}:
    the highest median (higher=True) or the lowest; None when none was measured."""
    have = [(c, f) for c, f in figures.items() if f]
    if not have:
        return None, None

    def med(cf):
        return cf[1][0] if isinstance(cf[1], (tuple, list)) else cf[1]

    return (max if higher else min)(have, key=med)


def others(figures, best, fmt):
    rest = ["%s %s" % (plain(c), fmt(f[0] if isinstance(f, (tuple, list)) else f))
            for c, f in figures.items() if c != best and f]
    return ("; the others: " + ", ".join(rest)) if rest else ""


BASES = {"fa": "fastsock baseline", "ur": "urequests baseline", "pl": "plain socket baseline",
         "li": "plain socket baseline", "bu": "plain socket baseline"}


def base_of(name):
    """The minheap baseline script a script's figure is taken above."""
    if name.startswith("requests "):
        return " ".join(name.split()[:2]) + " baseline"
    return BASES[name[:2]]


def plain(c):
    return LABELS[c].replace("`", "")


def size_label(n):
    if n >= MB and n % MB == 0:
        return "%d MB" % (n // MB)
    if n >= KB and n % KB == 0:
        return "%d KB" % (n // KB)
    return "%d B" % n


def fmt_num(x, digits=3):
    if x is None:
        return "n/a"
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    dec = max(0, digits - 1 - mag)
    return "{:,.{}f}".format(x, dec)


def fmt_bytes(n):
    if n is None:
        return "n/a"
    if abs(n) >= 10 * MB:
        return "%.1f MB" % (n / MB)
    if abs(n) >= 10 * KB:
        return "%.1f KB" % (n / KB)
    return "{:,.0f} B".format(n)


# ---- figures from raw runs


def spread(values):
    if not values:
        return None
    return statistics.median(values), min(values), max(values)


def tput_stats(slot, count):
    runs = slot.get("runs") or []
    mbps = spread([r["bytes"] / r["us"] for r in runs if r.get("us")])
    rps = spread([count * 1e6 / r["us"] for r in runs if r.get("us")])
    return mbps, rps


def cell(s, unit=""):
    if s is None:
        return "n/a"
    med, lo, hi = s
    return "%s%s (%s–%s)" % (fmt_num(med), unit, fmt_num(lo), fmt_num(hi))


class View:
    """Looks figures up in the results dict."""

    def __init__(self, res):
        self.res = res
        self.meta = res["meta"]
        self.big = self.meta["big"]
        self.big_label = size_label(self.big)

    def tput(self, coding, size, client):
        case = self.res["tput"].get("%s-%d" % (coding, size))
        if not case or client not in case["clients"]:
            return None, None, "not run"
        slot = case["clients"][client]
        if slot.get("na"):
            return None, None, slot["na"]
        mbps, rps = tput_stats(slot, case["case"]["count"])
        if mbps is None:
            return None, None, "; ".join(slot.get("errors", ["no data"]))
        return mbps, rps, None

    def many(self, key, client):
        case = self.res["many"].get(key)
        if not case or client not in case["clients"]:
            return None, None
        slot = case["clients"][client]
        runs = slot.get("runs") or []
        if not runs:
            return None, "; ".join(slot.get("errors", ["no data"]))
        n = runs[0]["bytes"] // KB
        return spread([n * 1e6 / r["us"] for r in runs]), None

    def many_runs(self, key, client):
        case = self.res["many"].get(key) or {"clients": {}}
        return (case["clients"].get(client) or {}).get("runs") or []

    def ir(self, config, client):
        v = (self.res["callgrind"].get(config) or {}).get(client) or {}
        return v.get("ir")

    def alloc(self, arch, key, client):
        v = ((self.res["alloc"].get(arch) or {}).get(key) or {}).get(client) or {}
        return v.get("alloc")

    def alloc_c(self, arch, key, client):
        v = ((self.res["alloc"].get(arch) or {}).get(key) or {}).get(client) or {}
        return v.get("c_peak")

    def reads(self, arch, key, client):
        return ((self.res["reads"].get(arch) or {}).get(key) or {}).get(client) or {}

    def minheap(self, arch, name):
        return (self.res["minheap"].get(arch) or {}).get(name)


# ---- targets

LIKE = "like for like"
USERS = "what users get"
MORE = "fastsock does more work"
ABS = "absolute"
VERDICTS = {"pass": "**PASS**", "miss": "**MISS**", "overlaps": "**overlaps**", None: "n/a"}
NOT_JUDGED = "not judged"


def trio(x):
    """A figure as (median, min, max); a single number (callgrind, bisection) as itself thrice."""
    if x is None:
        return None
    return tuple(x) if isinstance(x, (tuple, list)) else (x, x, x)


def judge(check):
    """One check: measured (med, min, max) OP k × reference (med, min, max). PASS only when the
    whole measured range clears k × the whole reference range; MISS when it is wholly on the
    wrong side; otherwise the ranges overlap the target boundary."""
    m, r, k, op = trio(check["measured"]), trio(check["reference"]), check["k"], check["op"]
    if m is None or r is None:
        return None
    if op == ">=":
        return "pass" if m[1] >= k * r[2] else "miss" if m[2] < k * r[1] else "overlaps"
    return "pass" if m[2] <= k * r[1] else "miss" if m[1] > k * r[2] else "overlaps"


def judge_row(checks):
    got = [judge(c) for c in checks]
    if not checks or None in got:
        return None
    return "miss" if "miss" in got else "overlaps" if "overlaps" in got else "pass"


def target_records(res):
    """Rows for the targets table and results.json: target, comparison, measured, reference,
    ratio (texts), checks (the numbers: measured OP k × reference), judged, verdict."""
    v = View(res)
    rows = []
    big = v.big_label

    def add(target, comparison, measured, reference, ratio, checks, judged=True):
        verdict = judge_row(checks) if judged else None
        rows.append({"target": target, "comparison": comparison, "measured": measured, "reference": reference,
                     "ratio": ratio, "checks": checks, "judged": judged,
                     "verdict": verdict if judged else NOT_JUDGED})

    def rng(s, unit):
        return "%s %s (%s–%s)" % (fmt_num(s[0]), unit, fmt_num(s[1]), fmt_num(s[2]))

    for client, coding, comp, why in (
            ("fs_save", "cl", LIKE, "both write the body to /dev/null"),
            ("fs_readinto", "cl", LIKE, "both discard the body (one 4 KB buffer; curl: /dev/null)"),
            ("fs_content", "cl", MORE, "fastsock builds the body in memory, curl writes it to /dev/null"),
            ("fs_save", "chunked", LIKE, "both write the body to /dev/null")):
        fs, _, _ = v.tput(coding, v.big, client)
        ref, _, _ = v.tput(coding, v.big, "curl")
        ratio = fs[0] / ref[0] if fs and ref else None
        add("%s download (%s), %s: MB/s ≥ 0.5× curl" % (
            big, "Content-Length" if coding == "cl" else "chunked", LABELS[client]),
            "%s: new connection each; %s" % (comp, why),
            rng(fs, "MB/s") if fs else "n/a", "curl -o /dev/null " + rng(ref, "MB/s") if ref else "n/a",
            "%.2f×" % ratio if ratio is not None else "n/a",
            [{"measured": fs, "reference": ref, "k": 0.5, "op": ">="}])
    for heap in (8 * MB, 128 * KB):
        figs = {c: v.many("nc-%d" % heap, c)[0] for c in BASELINES}
        best, ur = strongest(figs, higher=True)
        runs = v.many_runs("nc-%d" % heap, best) if best else []
        n = runs[0]["bytes"] // KB if runs else 0
        for client, key, comp, how in (
                ("fs_content", "nc", LIKE, "one-shot `get(url).content`, new connection each, as the baselines"),
                ("fs_session", "ka", USERS, "fastsock's best mode (keep-alive Session) against the baselines' "
                                            "only mode (Connection: close, new connection each)")):
            fs, _ = v.many("%s-%d" % (key, heap), client)
            ratio = fs[0] / ur[0] if fs and ur else None
            add("%s small GETs ≥ 3× the best requests-style baseline's req/s (%s heap), %s" % (
                fmt_num(n), size_label(heap), LABELS[client]),
                "%s: %s" % (comp, how), rng(fs, "req/s") if fs else "n/a",
                "strongest: %s %s%s" % (plain(best), rng(ur, "req/s"), others(figs, best, fmt_num)) if ur else "n/a",
                "%.1f×" % ratio if ratio is not None else "n/a",
                [{"measured": fs, "reference": ur, "k": 3, "op": ">=", "baseline": best}], judged=comp == LIKE)
    for config in v.res["callgrind"] or ("64-bit, 8 MB heap", "32-bit, 128 KB heap"):
        figs = {c: v.ir(config, c) for c in BASELINES}
        best, ur = strongest(figs, higher=False)
        plains = [x for x in (v.ir(config, "concat"), v.ir(config, "join")) if x]
        pl = min(plains) if plains else None
        ctl = v.ir(config, "urequests_fs")
        for client, comp, how in (("fs_content", LIKE, "one-shot `.content`, new connection each, as both"),
                                  ("fs_session", USERS, "keep-alive Session against new connection each")):
            fs = v.ir(config, client)
            r1 = fs / ur if fs and ur else None
            r2 = fs / pl if fs and pl else None
            ref = "strongest: %s %s Ir%s" % (plain(best), fmt_num(ur), others(figs, best, fmt_num)) if ur else "n/a"
            if ur and fs and ctl:
                ref += " (control, urequests with fastsock imported but unused: %s Ir)" % fmt_num(ctl)
            add("Instructions per 1 KB GET ≤ 0.15× the best requests-style baseline (%s), %s" % (
                config, LABELS[client]),
                "%s: %s" % (comp, how), "%s Ir" % fmt_num(fs) if fs else "n/a", ref,
                "%.4f×" % r1 if r1 is not None else "n/a",
                [{"measured": fs, "reference": ur, "k": 0.15, "op": "<=", "baseline": best}], judged=comp == LIKE)
            add("Instructions per 1 KB GET ≤ 0.5× plain socket (%s), %s" % (config, LABELS[client]),
                "%s: %s" % (comp, how), "%s Ir" % fmt_num(fs) if fs else "n/a",
                "plain socket %s Ir (the cheaper variant)" % fmt_num(pl) if pl else "n/a",
                "%.4f×" % r2 if r2 is not None else "n/a",
                [{"measured": fs, "reference": pl, "k": 0.5, "op": "<="}], judged=comp == LIKE)
    for arch in ("32-bit", "64-bit"):
        base = v.minheap(arch, "fastsock baseline")
        save = v.minheap(arch, "fastsock save() big")
        extra = None
        if base and save and base["works"] and save["works"]:
            extra = save["works"] - base["works"]
            meas = "%s (baseline %s)" % (fmt_bytes(save["works"]), fmt_bytes(base["works"]))
        else:
            meas = "n/a"
        add("Smallest GC heap for a %s `save()`: ≤ 16 KB above baseline (%s)" % (big, arch), ABS, meas,
            "baseline: `import fastsock, fastsock._more` (save() loads the leaf: the host compiles it into "
            "the heap, the device keeps it in flash) + open the output file; the C receive buffer is outside this heap "
            "(see Memory)", "+%s" % fmt_bytes(extra) if extra is not None else "n/a",
            [{"measured": extra, "reference": 16 * KB, "k": 1, "op": "<="}])
    for arch in ("64-bit", "32-bit"):
        a = v.alloc(arch, "100 KB", "fs_content")
        c = v.alloc_c(arch, "100 KB", "fs_content")
        ref = "body 100 KB + 2 KB = 102 KB"
        if a is not None and c is not None:
            ref += "; C heap also in use: %s, GC + C: %s" % (fmt_bytes(c), fmt_bytes(a + c))
        add("`get(url).content` of 100 KB: GC heap allocated ≤ body + 2 KB (%s)" % arch, ABS,
            fmt_bytes(a), ref, "body + %s" % fmt_bytes(a - 100 * KB) if a is not None else "n/a",
            [{"measured": a, "reference": 100 * KB + 2 * KB, "k": 1, "op": "<="}])
    for client in ("fs_readinto", "fs_save"):
        worst, fixed, parts = None, 0, []
        for arch in ("64-bit", "32-bit"):
            for coding in ("", " chunked"):
                small = v.reads(arch, "100 KB" + coding, client)
                large = v.reads(arch, big + coding, client)
                if "alloc" not in small or "alloc" not in large:
                    continue
                per = (large["alloc"] - small["alloc"]) / max(1, large["reads"] - small["reads"])
                worst = per if worst is None else max(worst, per)
                fixed = max(fixed, large["alloc"])
                parts.append(arch + coding)
        add("%s of %s: 0 bytes of GC heap per read (gc.mem_alloc)" % (LABELS[client], big), ABS,
            "%s B per read" % fmt_num(max(worst, 0)) if worst is not None else "n/a",
            "fixed per call: %s (%s)" % (fmt_bytes(fixed), ", ".join(parts)) if parts else "n/a", "—",
            [{"measured": worst, "reference": 0, "k": 1, "op": "<="}])
    for heap in (8 * MB, 128 * KB):
        runs = v.many_runs("ka-%d" % heap, "fs_session")
        if runs:
            conns = max(r.get("connections", 0) for r in runs)
            reused = min(r.get("reused", 0) for r in runs)
            drift = max(abs(r.get("retained", 0)) for r in runs)
            n = runs[0]["bytes"] // KB
            meas = "%d new connections, %d reused; heap after: %+d B (worst of %d rounds)" % (
                conns, reused, drift, len(runs))
            checks = [{"measured": conns, "reference": 0, "k": 1, "op": "<="},
                      {"measured": reused, "reference": n, "k": 1, "op": ">="},
                      {"measured": drift, "reference": KB, "k": 1, "op": "<="}]
        else:
            meas, checks = "n/a", []
        add("Session GETs reuse one connection and return the GC heap to baseline ± 1 KB (%s heap)" %
            size_label(heap), ABS, meas, "one connection opened by the warm-up request", "—", checks)
    have = [v.tput("cl", s, c)[0] is not None for s in (KB, 100 * KB) for c in ("concat", "join")]
    have.append(v.tput("cl", v.big, "join")[0] is not None)
    have.append(bool(v.res.get("concat_extrapolation")))
    ran = bool(v.res["tput"]) and any(s.get("runs") for c in v.res["tput"].values() for s in c["clients"].values())
    add("Report shows both plain-socket variants (`buf += d` and list + join)", ABS,
        "%d of %d cells measured" % (sum(have), len(have)) if ran else "n/a",
        "`buf += d` at %s: extrapolated (see below)" % big, "—",
        [{"measured": sum(have), "reference": len(have), "k": 1, "op": ">="}] if ran else [])
    return rows


def targets(v):
    """Rows: (target, comparison, measured, reference, ratio text, verdict text)."""
    return [(r["target"], r["comparison"], r["measured"], r["reference"], r["ratio"],
             VERDICTS[r["verdict"]] if r["judged"] else NOT_JUDGED) for r in target_records(v.res)]


def target_counts(records):
    judged = [r for r in records if r["judged"]]
    return {k: sum(r["verdict"] == k for r in judged) for k in ("pass", "miss", "overlaps", None)}


# ---- plots


def plots(v, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [KB, 100 * KB, v.big]

    def throughput():
        if not any(slot.get("runs") for case in v.res["tput"].values() for slot in case["clients"].values()):
            return False
        fig, axes = plt.subplots(1, 2, figsize=(14, 5.5), sharey=True)
        clients = ["concat", "join", *BASELINES, "fs_content", "fs_readinto", "fs_save", "lwip_save",
                   "netconn_slirp", "lwip_tap_save", "netconn_tap", "cpython", "curl"]
        for ax, coding in zip(axes, ("cl", "chunked"), strict=True):
            present = [c for c in clients if any(v.tput(coding, s, c)[0] for s in sizes)
                       or (c == "concat" and coding == "cl")]
            width = 0.8 / max(1, len(present))
            for i, c in enumerate(present):
                xs, ys, lo, hi, hatch_x, hatch_y = [], [], [], [], [], []
                for j, s in enumerate(sizes):
                    m, _, _ = v.tput(coding, s, c)
                    x = j + (i - (len(present) - 1) / 2) * width
                    if m:
                        xs.append(x)
                        ys.append(m[0])
                        lo.append(m[0] - m[1])
                        hi.append(m[2] - m[0])
                    elif c == "concat" and s == v.big and coding == "cl" and v.res.get("concat_extrapolation"):
                        hatch_x.append(x)
                        hatch_y.append(v.res["concat_extrapolation"]["mbps"])
                ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, color=COLOURS[c], label=plain(c))
                if hatch_x:
                    ax.bar(hatch_x, hatch_y, width, color="white", edgecolor=COLOURS[c], hatch="///",
                           label="buf += d, extrapolated")
            ax.set_xticks(range(len(sizes)))
            ax.set_xticklabels([size_label(s) for s in sizes])
            ax.set_yscale("log")
            ax.set_ylim(top=ax.get_ylim()[1] * 8)
            ax.set_title("Content-Length bodies" if coding == "cl"
                         else "chunked bodies (urequests, requests 0.10.2: HTTP/1.0, close-delimited)")
            ax.grid(axis="y", which="both", alpha=0.3)
            ax.legend(fontsize=7, loc="upper left", ncol=3)
        axes[0].set_ylabel("MB/s (10^6 bytes/s), median; bars: min–max of %d rounds" % v.meta["rounds"])
        fig.suptitle("Throughput by body size, new connection per request, loopback nginx")
        fig.tight_layout()
        fig.savefig(out / "throughput.png", dpi=110)
        plt.close(fig)

    def requests():
        keys = [k for k in ("ka-%d" % (8 * MB), "ka-%d" % (128 * KB), "nc-%d" % (8 * MB), "nc-%d" % (128 * KB))]
        names = {"ka-%d" % (8 * MB): "keep-alive, 8 MB heap", "ka-%d" % (128 * KB): "keep-alive, 128 KB heap",
                 "nc-%d" % (8 * MB): "new connection each, 8 MB heap",
                 "nc-%d" % (128 * KB): "new connection each, 128 KB heap"}
        rows = []
        for k in keys:
            for c in (v.res["many"].get(k) or {"clients": {}})["clients"]:
                m, _ = v.many(k, c)
                if m:
                    rows.append(("%s — %s" % (plain(c), names[k]), m, c, k))
        if not rows:
            return False
        fig, ax = plt.subplots(figsize=(11, 0.32 * len(rows) + 1.5))
        for i, (_, m, c, k) in enumerate(rows):
            ax.barh(i, m[0], xerr=[[m[0] - m[1]], [m[2] - m[0]]], capsize=2, color=COLOURS[c],
                    hatch="//" if k.endswith(str(128 * KB)) else None, edgecolor="white")
            ax.text(m[2] * 1.05, i, fmt_num(m[0]), va="center", fontsize=7)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([r[0] for r in rows], fontsize=7)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("requests/s (1 KB bodies), median; bars: min–max of %d rounds" % v.meta["rounds"])
        ax.set_title("Small GETs: keep-alive vs a new connection each (hatched: 128 KB MicroPython heap)")
        ax.grid(axis="x", which="both", alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "requests.png", dpi=110)
        plt.close(fig)

    def heap():
        if not v.res["alloc"] or not v.res["minheap"]:
            return False
        fig, axes = plt.subplots(1, 2, figsize=(14, 5.5))
        mp = ["concat", "join", *BASELINES, "fs_content", "fs_session", "fs_readinto", "fs_save"]
        groups = [("1 KB", "64-bit"), ("1 KB", "32-bit"), ("100 KB", "64-bit"), ("100 KB", "32-bit")]
        width = 0.8 / len(mp)
        for i, c in enumerate(mp):
            xs, ys = [], []
            for j, (key, arch) in enumerate(groups):
                a = v.alloc(arch, key, c)
                if a:
                    xs.append(j + (i - (len(mp) - 1) / 2) * width)
                    ys.append(a)
            axes[0].bar(xs, ys, width, color=COLOURS[c], label=plain(c))
        axes[0].set_xticks(range(len(groups)))
        axes[0].set_xticklabels(["%s body\n%s" % g for g in groups])
        axes[0].set_yscale("log")
        axes[0].set_ylabel("bytes of MicroPython heap allocated per request (GC off)")
        axes[0].set_title("Heap allocated per request (gc.mem_alloc delta)")
        axes[0].grid(axis="y", which="both", alpha=0.3)
        axes[0].legend(fontsize=7)
        names = [("fastsock save() big", "fs_save"), ("fastsock readinto big", "fs_readinto"),
                 ("fastsock .content 100 KB", "fs_content"), ("urequests 100 KB", "urequests"),
                 ("requests 0.10.2 100 KB", "requests0102"), ("requests 1.1.1 100 KB", "requests111"),
                 ("urequests big", "urequests"), ("list + join 100 KB", "join"), ("list + join big", "join"),
                 ("buf += d 100 KB", "concat")]
        bars = []
        for name, c in names:
            m = v.minheap("32-bit", name)
            b = v.minheap("32-bit", base_of(name))
            if m and m["works"] and b and b["works"]:
                bars.append((name.replace("big", v.big_label), m["works"] - b["works"], c))
        axes[1].barh(range(len(bars)), [max(1, b[1]) for b in bars], color=[COLOURS[b[2]] for b in bars])
        for i, b in enumerate(bars):
            axes[1].text(max(1, b[1]) * 1.1, i, fmt_bytes(b[1]), va="center", fontsize=8)
        axes[1].set_yticks(range(len(bars)))
        axes[1].set_yticklabels([b[0] for b in bars], fontsize=8)
        axes[1].invert_yaxis()
        axes[1].set_xscale("log")
        axes[1].set_xlabel("bytes above the client's own baseline (imports), 32-bit interpreter")
        axes[1].set_title("Smallest -X heapsize that completes the download (peak need)")
        axes[1].grid(axis="x", which="both", alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "heap.png", dpi=110)
        plt.close(fig)

    def instructions():
        configs = list(v.res["callgrind"])
        if not configs:
            return False
        cl = [c for c in ("concat", "join", *BASELINES, "urequests_fs", "fs_content", "fs_session")
              if any(v.ir(conf, c) for conf in configs)]
        fig, ax = plt.subplots(figsize=(11, 5))
        width = 0.8 / len(cl)
        for i, c in enumerate(cl):
            xs, ys = [], []
            for j, conf in enumerate(configs):
                ir = v.ir(conf, c)
                if ir:
                    xs.append(j + (i - (len(cl) - 1) / 2) * width)
                    ys.append(ir / 1000)
            ax.bar(xs, ys, width, color=COLOURS[c], label=plain(c))
            for x, y in zip(xs, ys, strict=True):
                ax.text(x, y, "%.0f" % y, ha="center", va="bottom", fontsize=6)
        ax.set_xticks(range(len(configs)))
        ax.set_xticklabels(configs)
        ax.set_ylabel("thousand instructions (Ir) per 1 KB GET")
        ax.set_title("Instructions per request under callgrind (client process, user space)")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "instructions.png", dpi=110)
        plt.close(fig)

    # Each figure on its own: one without data (a skipped phase) does not stop the others.
    written = []
    for name, fn in (("throughput.png", throughput), ("requests.png", requests), ("heap.png", heap),
                     ("instructions.png", instructions)):
        try:
            if fn() is not False:
                written.append(name)
        except ValueError as e:
            v.res.setdefault("notes", []).append("no %s: %s" % (name, e))
        plt.close("all")
    return written


# ---- report


def breakdown(res):
    """The section 'Where the instructions go' (callgrind self costs by part, 32-bit)."""
    bd = res.get("callgrind_breakdown")
    if not bd or not any(bd["configs"].values()):
        return []
    L = ["## Where the instructions go (32-bit, per 1 KB GET, new connection each)", ""]
    area, live = bd["device_gc_area"], bd["device_live_after_imports"]
    L.append("Each function's own instructions (callgrind's self cost) summed by the part of the interpreter "
             "its source belongs to, for the N-request run minus the 0-request run, divided by N (the same runs "
             "as the table above); the parts add up to the client's figure. `gc_alloc` inclusive counts the "
             "allocator with the collections it triggers; `gc_sweep_all` is the sweep at the interpreter's exit, "
             "which grows with the garbage left behind, so in a heap that never collects it shows up per request. "
             "System calls themselves (the kernel's socket work) are not user-space instructions and are not "
             "counted; their libc wrappers are.")
    L.append("")
    L.append("**The device's heap size.** The ESP32_NET image's MicroPython heap is one GC area of {:,} B at "
             "boot (`micropython.mem_info()` on the ESP32_NET-QEMU image; the port adds an area of at most "
             "110,592 B from ESP-IDF's heap only when a collection cannot free enough, which a 1 KB GET never "
             "needs), of which {:,} B are in use after `import fastsock, requests, socket` (their bytecode is "
             "frozen in flash), leaving {:,} B between collections. On the host each client's code is compiled "
             "into the heap, so the device-sized heap is, per client, its live heap after its imports (this "
             "script's 4 KB buffer included) plus those {:,} B: the same free room, so the same number of "
             "collections per request as on the device. Each collection costs more on the host than on the "
             "device, though: its mark phase also walks the bytecode compiled into the heap (most for "
             "fastsock, whose package is the largest), which on the device is frozen in flash and never "
             "marked, so `gc_collect` here is an upper bound for the device. The 8 MB heap never collects "
             "during the run; the 128 KB column above is a fixed heap for every client.".format(
                 area, live, area - live, area - live))
    L.append("")
    configs = [k for k, val in bd["configs"].items() if val]
    clients = [c for c in ("join", *BASELINES, "fs_content", "fs_session")
               if any(c in bd["configs"][k] for k in configs)]
    parts = None
    for k in configs:
        for c in clients:
            if c in bd["configs"][k]:
                parts = list(bd["configs"][k][c]["parts"])
                named = list(bd["configs"][k][c]["inclusive"])
                break
    header = ["part"]
    for k in configs:
        for c in clients:
            if c in bd["configs"][k]:
                header.append("%s, %s" % (LABELS[c], "8 MB" if "8 MB" in k else "device-sized %s" % fmt_bytes(
                    bd["configs"][k][c]["heap"])))
    rows = []

    def cells(fn):
        out = []
        for k in configs:
            for c in clients:
                r = bd["configs"][k].get(c)
                if r:
                    x = fn(r)
                    out.append("%s (%.0f %%)" % (fmt_num(x), 100 * x / r["total"]) if r["total"] else fmt_num(x))
        return out

    for p in parts:
        if any(abs(r["parts"][p]) >= 0.5 for k in configs for r in bd["configs"][k].values()):
            rows.append([p] + cells(lambda r, p=p: r["parts"][p]))
    rows.append(["**total per request**"] + [fmt_num(r["total"]) for k in configs for c in clients
                                             for r in [bd["configs"][k].get(c)] if r])
    for n in named:
        rows.append(["`%s`, inclusive" % n] + cells(lambda r, n=n: r["inclusive"][n]))
    # One table per heap: the columns of both would be too wide.
    for k in configs:
        sub = [i for i, h in enumerate(header) if i == 0 or (("8 MB" in h) == ("8 MB" in k))]
        L.append("%s:" % ("8 MB heap" if "8 MB" in k else "Device-sized heap"))
        L.append("")
        L.append(table([header[i] for i in sub], [[r[i] for i in sub] for r in rows]))
        L.append("")
    return L


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def report(v, pngs):
    m = v.meta
    res = v.res
    big = v.big_label
    L = []
    L.append("# fastsock benchmark report")
    L.append("")
    if m["mode"] == "quick":
        L.append("> **Quick smoke run** (`--quick`): small sizes (big body %s), %d rounds, few requests. "
                 "The figures only show that the pipeline works; see the full run for numbers." % (big, m["rounds"]))
        L.append("")
    L.append("Generated by `%s` on %s in %.0f s. Do not edit by hand: re-run the command." % (
        m["command"], m["date"], m.get("runtime_s", 0)))
    L.append("")
    L.append("- Machine: %s (shared; absolute timings are noisy, compare the clients side by side)" % m["machine"])
    L.append("- Commit: `%s`" % m["commit"])
    L.append("- MicroPython: %s, built from the %s (`build/host`, 64-bit; `build/host32`, -m32 ILP32 "
             "like the ESP32; `build/host-lwip`)" % (m["micropython"], m["micropython_source"]))
    L.append("- fastsock %s; %s; %s; %s" % (m["fastsock"], m["urequests"], m.get("requests", "requests: n/a"),
                                            m["lwip"]))
    if m.get("fingerprints"):
        L.append("- Builds used (copied at start, so a rebuild during the run cannot mix versions; sha256 "
                 "prefixes): " + ", ".join("`%s` %s" % kv for kv in m["fingerprints"].items()))
    L.append("- nginx %s (sendfile; `/chunked/<n>` from the echo module); %s; %s; %s; matplotlib %s" % (
        m["nginx"], m["curl"].split(" (")[0], m["cpython"], m["valgrind"], m["matplotlib"]))
    L.append("- MicroPython heaps: %s for 1 KB and 100 KB bodies (the interpreter's default), %s for the %s "
             "body (list + join needs ~3× the body), %s and %s for the small-GET series; heap figures "
             "with 64 MB and the GC off." % (size_label(8 * MB), size_label(64 * MB), big, size_label(8 * MB),
                                             size_label(128 * KB)))
    L.append("- %d interleaved rounds; in each round every client runs every case once, in an order "
             "rotated by one client per round; figures are median (min–max)." % m["rounds"])
    L.append("")
    L.append("## Targets (issues 4 and 8)")
    L.append("")
    # Only the baselines this run measured are named (what a quick run lacked is said above).
    missing = res.get("baselines_missing", [])
    measured = [BASELINE_TEXT[c] for c in BASELINES if c not in missing]
    strongest = " and ".join([", ".join(measured[:-1]), measured[-1]] if len(measured) > 1 else measured)
    L.append("Targets are judged **like for like** only: the same connection policy and the same work on "
             "both sides (fastsock's one-shot `get(url).content`, a new connection per request, against "
             "the requests-style baselines and the plain-socket client, which can do nothing else; `save()` "
             "to /dev/null against `curl -o /dev/null`). The requests-style reference is the **strongest** "
             "of " + strongest + " in "
             "each configuration: the highest req/s, the fewest instructions; the reference cell names it "
             "and gives the others. Rows marked **what users get** put fastsock's best mode (a "
             "keep-alive `Session`) against the baseline's only mode; they are shown, not judged. A verdict "
             "is PASS only when the whole min–max range of the measured figure clears the target against "
             "the whole range of the reference; MISS when it is wholly on the wrong side; otherwise "
             "**overlaps**. Single figures (callgrind, bisection) have no range. The numbers behind each "
             "verdict are in `results.json` under `targets`.")
    L.append("")
    records = target_records(res)
    rows = targets(v)
    L.append(table(["target", "comparison", "measured", "reference", "ratio", "verdict"], rows))
    L.append("")
    for word, key in (("Missed", "miss"), ("Overlapping the target", "overlaps")):
        hit = [r for r in records if r["judged"] and r["verdict"] == key]
        if hit:
            L.append("%s: " % word + "; ".join("%s — measured %s (%s)" % (r["target"], r["measured"], r["ratio"])
                                               for r in hit) + ".")
            L.append("")
    cnt = target_counts(records)
    if not cnt["miss"] and not cnt["overlaps"]:
        L.append("All judged targets with data pass.")
        L.append("")

    # Throughput.
    L.append("## Throughput by body size (MB/s, 10^6 bytes/s; new connection per request)")
    L.append("")
    clients = ["concat", "join", *BASELINES, "fs_content", "fs_readinto", "fs_save", "lwip_save",
               "netconn_slirp", "lwip_tap_save", "netconn_tap", "cpython", "curl"]
    sizes = [KB, 100 * KB, v.big]
    notes = {}
    for coding, title in (("cl", "Content-Length"), ("chunked", "chunked (`/chunked/<n>`)")):
        rows = []
        for c in clients:
            row = [LABELS[c]]
            for s in sizes:
                mbps, _, why = v.tput(coding, s, c)
                if mbps:
                    row.append(cell(mbps))
                elif why == "extrapolated" and res.get("concat_extrapolation"):
                    row.append("~%s (extrapolated)" % fmt_num(res["concat_extrapolation"]["mbps"]))
                else:
                    notes.setdefault(why, len(notes) + 1)
                    row.append("n/a [%d]" % notes[why])
            rows.append(row)
        L.append("### %s" % title)
        L.append("")
        c1, c100 = (res["tput"].get("cl-%d" % KB), res["tput"].get("cl-%d" % (100 * KB)))
        L.append(table(["client"] + ["%s (%d req/run)" % (size_label(s), (res["tput"].get("cl-%d" % s) or {
            "case": {"count": 1}})["case"]["count"]) for s in sizes], rows))
        del c1, c100
        L.append("")
    for why, i in sorted(notes.items(), key=lambda x: x[1]):
        L.append("[%d] %s" % (i, why))
    L.append("")
    L.append("Not all rows do the same work: the plain-socket client, the requests-style clients, `.content` "
             "and CPython build "
             "the body in memory; the `readinto` loop discards it through one 4 KB buffer; `save()`, curl and "
             "the netconn loop write it to /dev/null. Compare rows that do the same work.")
    L.append("")
    L.append("urequests and requests 0.10.2 send HTTP/1.0, so nginx answers their `/chunked/<n>` requests with "
             "a close-delimited "
             "body instead of chunked coding; the bytes are the same.")
    L.append("")
    ex = res.get("concat_extrapolation")
    if ex:
        pts = ", ".join("%s in %.3f s" % (size_label(n), t) for n, t in ex["points"])
        L.append("**`buf += d` at %s is extrapolated, not measured**: measured %s; a power-law fit gives "
                 "time ∝ size^%.2f, so %s would take ~%s s (~%s MB/s). Each `+=` copies the whole buffer so "
                 "far into a new bytes object (and hashes it), so the time grows with the square of the size." % (
                     big, pts, ex["exponent"], big, fmt_num(ex["seconds"], 2), fmt_num(ex["mbps"])))
        L.append("")
    if "throughput.png" in pngs:
        L.append("![throughput by body size](throughput.png)")
        L.append("")

    # Requests per second.
    many = res["many"]
    if many:
        n = None
        for case in many.values():
            for slot in case["clients"].values():
                if slot.get("runs"):
                    n = slot["runs"][0]["bytes"] // KB
        L.append("## Requests per second: %s sequential GETs of a 1 KB body" % fmt_num(n or 0))
        L.append("")
        order = ["fs_session", "lwip_session", "cpython_ka", "curl_ka", "concat", "join", *BASELINES, "fs_content",
                 "lwip_content", "cpython", "curl"]
        rows = []
        for c in order:
            k = "ka" if c in ("fs_session", "lwip_session", "cpython_ka", "curl_ka") else "nc"
            cells = []
            for heap in (8 * MB, 128 * KB):
                key = "%s-%d" % (k, heap)
                if key not in many or c not in many[key]["clients"]:
                    cells.append("—")
                    continue
                s, err = v.many(key, c)
                cells.append(cell(s) if s else "error: %s" % err)
            if all(x == "—" for x in cells):
                continue
            rows.append([LABELS[c], "keep-alive" if k == "ka" else "new connection each"] + cells)
        L.append(table(["client", "connections", "req/s, 8 MB heap", "req/s, 128 KB heap"], rows))
        L.append("")
        L.append("The plain-socket client closes after each request; urequests 0.9.1 and requests 0.10.2 send "
                 "HTTP/1.0 and requests 1.1.1 sends HTTP/1.1 with `Connection: close`: none can keep a "
                 "connection alive. External clients have no "
                 "MicroPython heap (—). Times are taken inside each process after one warm-up request.")
        L.append("")
        if "requests.png" in pngs:
            L.append("![requests per second](requests.png)")
            L.append("")

    # Heap.
    if res["alloc"]:
        L.append("## Memory: GC heap + C heap")
        L.append("")
        L.append("### Memory a request needs: GC heap allocated + C heap (malloc) in use")
        L.append("")
        mp = ["concat", "join", *BASELINES, "fs_content", "fs_session", "fs_readinto", "fs_save"]
        for key, body in (("1 KB", KB), ("100 KB", 100 * KB)):
            rows = []
            for c in mp:
                row = [LABELS[c]]
                for arch in ("64-bit", "32-bit"):
                    a, cp = v.alloc(arch, key, c), v.alloc_c(arch, key, c)
                    row.append(fmt_bytes(a) if a is not None else "n/a")
                    row.append(fmt_bytes(cp) if cp is not None else "n/a")
                    row.append("%s (%.2f× body)" % (fmt_bytes(a + cp), (a + cp) / body)
                               if a is not None and cp is not None else "n/a")
                rows.append(row)
            L.append("%s body:" % key)
            L.append("")
            L.append(table(["client", "GC heap per request, 64-bit", "C heap peak, 64-bit", "total, 64-bit",
                            "GC heap per request, 32-bit", "C heap peak, 32-bit", "total, 32-bit"], rows))
            L.append("")
        L.append("**GC heap per request**: `gc.mem_alloc()` delta over the requests with the GC off, after one "
                 "warm-up request, divided by the number of requests (block-rounded: 32 B blocks on 64-bit, "
                 "16 B on 32-bit; results.json also has the bytes requested, `micropython.mem_total()`). "
                 "**C heap peak**: memory outside the GC heap, measured from outside fastsock with "
                 "`hostcheck.malloc_bytes()` (the host interpreter's C heap in use per glibc's `mallinfo2`): "
                 "the most in use above the baseline, sampled with each response open (head read, connection "
                 "held) and after it, in a second pass of the same requests by the same client (`stream=True` "
                 "for fastsock so the sample can be taken with the response open; a Session's connection is "
                 "closed for the baseline, so the buffer it keeps is counted). For fastsock it is the receive "
                 "buffer that lives outside the GC heap while a connection is open (on the device lwIP's pbufs "
                 "play that part); the plain-socket client and urequests use MicroPython's socket, whose "
                 "buffers are in the GC heap. Transient allocations inside one call (getaddrinfo's) are not "
                 "sampled, for any client. This benchmark has no TLS case, so TLS memory is not measured here. "
                 "`readinto` uses one 4 KB buffer allocated before the requests; `save()` writes to an "
                 "already open `/dev/null`.")
        L.append("")
        L.append("### Body loop of a `readinto` loop and `save()` (GC off around the loop only)")
        L.append("")
        rows = []
        for c in ("fs_readinto", "fs_save"):
            for arch in ("64-bit", "32-bit"):
                for key in ("100 KB", "100 KB chunked", big, big + " chunked"):
                    r = v.reads(arch, key, c)
                    if "alloc" in r:
                        rows.append([LABELS[c], arch, key, "{:,}".format(r["reads"]), "%d B" % r["alloc"]])
                    elif r:
                        rows.append([LABELS[c], arch, key, "—", "error: %s" % r.get("error")])
        L.append(table(["client", "interpreter", "body", "reads / 4 KB pieces", "heap allocated by the whole loop"],
                       rows))
        L.append("")
        L.append("A constant figure across body sizes is a fixed cost per call (per response), not per read.")
        L.append("")
    if res["minheap"]:
        L.append("### Smallest GC heap that completes the download (binary search over `-X heapsize`)")
        L.append("")
        L.append("GC heap only: fastsock's C receive buffer (the C heap peak above) is needed on top of it; "
                 "the other clients need no C heap of their own. "
                 "This is the peak GC heap a client needs: `micropython.mem_info()`'s peak counts bytes not yet "
                 "freed explicitly and never subtracts what the GC sweeps, so on a GC heap it tracks the total "
                 "allocated, not the live peak. Each client's baseline is the same script without the request "
                 "(its imports; for fastsock also opening the output file). The host compiles the fastsock package "
                 "from source at import, which dominates its baseline; on the device it is frozen bytecode.")
        L.append("")
        rows = []
        names = list(res["minheap"].get("32-bit", {}))
        for name in names:
            base_name = base_of(name)
            row = [name.replace("big", big)]
            for arch in ("32-bit", "64-bit"):
                mh = v.minheap(arch, name)
                b = v.minheap(arch, base_name)
                if not mh:
                    row.append("—")
                elif mh["works"] is None:
                    row.append("> %s (search capped)" % fmt_bytes(mh["fails"]))
                else:
                    txt = fmt_bytes(mh["works"])
                    if "baseline" not in name and b and b["works"]:
                        txt += " (+%s)" % fmt_bytes(mh["works"] - b["works"])
                    if mh["capped"]:
                        txt += ", fails at %s (time cap)" % fmt_bytes(mh["fails"])
                    row.append(txt)
            rows.append(row)
        L.append(table(["script", "32-bit (above baseline)", "64-bit (above baseline)"], rows))
        L.append("")
        L.append("Resolution: 256 B below 4 MB, 1 % above.")
        L.append("")
    if "heap.png" in pngs:
        L.append("![heap](heap.png)")
        L.append("")

    # Callgrind.
    if res["callgrind"]:
        L.append("## Instructions per 1 KB GET (callgrind)")
        L.append("")
        configs = list(res["callgrind"])
        rows = []
        for c in ("concat", "join", *BASELINES, "urequests_fs", "fs_content", "fs_session"):
            if not any(v.ir(conf, c) for conf in configs):
                continue
            row = [LABELS[c]]
            for conf in configs:
                ir = v.ir(conf, c)
                ses = v.ir(conf, "fs_session")
                if ir is None and c not in res["callgrind"][conf]:
                    row.append("—")
                elif ir is None:
                    row.append("error: %s" % (res["callgrind"][conf].get(c) or {}).get("error"))
                else:
                    row.append("%s (%.2f× Session)" % (fmt_num(ir), ir / ses) if ses else fmt_num(ir))
            rows.append(row)
        L.append(table(["client"] + configs, rows))
        L.append("")
        L.append("Ir of a run with N=%s requests minus a run with none (both after one warm-up request), "
                 "divided by N: the client process's user-space instructions per request; the kernel and "
                 "nginx are not counted. The lwIP build is not measured here: its process also runs the "
                 "TCP/IP stack and slirp's emulated peer, so the count would not be comparable." % (
                     "%d" % v.res["meta"].get("cg_n", 0) if v.res["meta"].get("cg_n") else "N"))
        L.append("")
        L.append("The GC makes these figures depend on the heap size and on N. In an 8 MB heap nothing is "
                 "collected during the run, but every multi-block allocation scans from the start of the "
                 "heap past the garbage piled up so far, so clients that allocate a lot per request (the "
                 "plain-socket client) cost more per request as N grows. In a 128 KB heap the GC collects "
                 "every few dozen requests and the figure includes that cost, which grows with the live "
                 "heap it must mark: on the host, the fastsock package is compiled into the heap at import (~10 KB "
                 "more live data than urequests on 32-bit), whereas on the device it is frozen bytecode "
                 "in flash. The control row (urequests with fastsock imported but unused) shows how much "
                 "of a client's figure that live module alone adds. The device-sized column gives each "
                 "client the free room the device's heap has (see the next section for the sizes), so the "
                 "control has no cell there.")
        L.append("")
        if "instructions.png" in pngs:
            L.append("![instructions per request](instructions.png)")
            L.append("")
        L += breakdown(res)

    # Bytes copied.
    rows = []
    for c in ("fs_content", "fs_readinto", "fs_save", "lwip_save", "lwip_tap_save"):
        for coding in ("cl", "chunked"):
            for s in sizes:
                case = res["tput"].get("%s-%d" % (coding, s))
                if not case or c not in case["clients"]:
                    continue
                runs = case["clients"][c].get("runs") or []
                if not runs or "bytes_copied" not in runs[0]:
                    continue
                r = runs[-1]
                reqs = max(1, r["requests"])
                rows.append([LABELS[c], "%s %s" % (size_label(s), "chunked" if coding == "chunked" else "CL"),
                             "%.2f" % (r["bytes_copied"] / r["bytes"]),
                             "{:,}".format(r["bytes_received"] // reqs), "{:,}".format(r["peak_buffered"]),
                             "%.1f" % (r["heap_allocs"] / reqs)])
    if rows:
        L.append("## Bytes copied after the transport (`fastsock.stats()`)")
        L.append("")
        L.append(table(["client", "body", "bytes copied per body byte", "bytes received per request",
                        "peak buffered", "heap allocations per request"], rows))
        L.append("")
        L.append("`bytes_copied` counts the bytes fastsock itself copies after the transport (the kernel's "
                 "copy in `recv` on POSIX is the transport's; over lwIP the body stays in pbufs). With a "
                 "Content-Length body on POSIX, `.content` and `readinto` let `recv` write straight into the "
                 "destination once nothing is buffered, so only the bytes that arrived with the head are "
                 "copied; chunked bodies are copied once (the framing is cut out); `save()` writes from the "
                 "receive buffers without a copy.")
        L.append("")

    # Notes.
    errs = []
    for kind in ("tput", "many"):
        for key, case in res[kind].items():
            for c, slot in case["clients"].items():
                for e in slot.get("errors", []):
                    errs.append("%s %s, %s: %s" % (kind, key, plain(c), e))
    errs += res.get("notes", [])
    if errs:
        L.append("## Errors and notes")
        L.append("")
        L += ["- " + e for e in errs[:40]]
        L.append("")
    L.append("## Method")
    L.append("")
    L.append("- One nginx on 127.0.0.1 (sendfile, keep-alive) serves random files of each size and "
             "`/chunked/<n>`; the lwIP clients reach it as 10.0.2.2 through libslirp in their own process "
             "(no root), or over a TAP device in a network namespace when run as root.")
    L.append("- Every measurement is a fresh process; MicroPython clients run `scripts/benchlib/mp_client.py`, "
             "time with `time.ticks_us()` around the requests only, and check the body length. CPython uses "
             "`http.client` the same way; curl's own `time_total` per transfer is summed.")
    ver = res.get("verified") or {}
    L.append("- Bodies are checked by content: after the timed requests of every measurement, the same client "
             "makes one more request of the same URL, untimed, and writes the bytes it hands over to a file "
             "(`.content`, the joined list, each `readinto` piece; for `save()` what `save()` wrote, not the "
             "count it returns; curl with `-o`; the netconn loop with its output argument); scripts/bench "
             "compares the file's sha256 with the served body's and stops the run on any difference. "
             "%s bodies checked in this run%s." % (
                 "{:,}".format(sum(ver.values())) if ver else "No",
                 ", all matching" if ver else " (a results file from before these checks)"))
    L.append("- The plain-socket client is the seed chapter's (`scripts/benchlib/seed_client.py`): getaddrinfo, "
             "connect, send, `recv(512)` until the server closes, head split by hand — with `buf += d` as "
             "beginners write it, and with a list joined once.")
    L.append("- The requests-style baselines: urequests 0.9.1 from its PyPI sdist (`scripts/third_party.lock`); "
             "micropython-lib requests 1.1.1 (commit ee4bb8ff, the newest) and 0.10.2 (commit 8380c7bb, the one "
             "frozen into MicroPython v1.28.0's esp32 port), each pinned by commit and the file's sha256 in "
             "`scripts/bench-requests.lock` and taken with `git show` from a local copy of micropython-lib "
             "(`--sources DIR` or `$FASTSOCK_SOURCES`, else the emulated-ESP32 rig's checkout; "
             "`scripts/benchlib/mplib_sources.py` says what it finds where). They are copied into the run's "
             "snapshot as `requests_1_1_1` and `requests_0_10_2`, so both import side by side, and run on the "
             "host interpreters' `socket` like urequests. A full run without them stops before measuring "
             "anything and writes nothing; `--quick` runs without them and names them in one line. "
             "requests 1.1.1's `.content` reads 256 bytes at a time and joins them with `+=` (quadratic, like "
             "`buf += d`), so it is not run at %s." % big)
    L.append("- The smallest heap is found by bisection over `-X heapsize`; success means the script printed "
             "the full body length. Runs near the limit can differ by a few hundred bytes between runs.")
    L.append("- Raw numbers: `results.json` beside this report.")
    L.append("")
    if res.get("device"):
        import device_bench
        L.append("")
        L.append(device_bench.markdown(res["device"]))
    elif res.get("device_skipped"):
        L.append("")
        L.append("## Emulated ESP32\n\nNot measured in this run: %s" % res["device_skipped"])
    return "\n".join(L)


def write(results, out):
    out = pathlib.Path(out)
    v = View(results)
    try:
        pngs = plots(v, out)
    except ImportError as e:
        pngs = []
        results.setdefault("notes", []).append("no plots: %s (run scripts/install-deps)" % e)
    (out / "report.md").write_text(report(v, pngs))


def readme_block(results):
    v = View(results)
    m = v.meta
    big = v.big_label
    rows = []
    ex = results.get("concat_extrapolation")
    # (client, where the body goes, keep-alive client, new-connection client for GETs/s and Ir)
    for c, goes, ka in (("concat", "memory", None), ("join", "memory", None), ("urequests", "memory", None),
                        ("requests0102", "memory", None), ("requests111", "memory", None),
                        ("fs_content", "memory", "fs_session"), ("cpython", "memory", "cpython_ka"),
                        ("fs_save", "/dev/null", None), ("curl", "/dev/null", "curl_ka")):
        mbps, _, why = v.tput("cl", v.big, c)
        if mbps:
            t = fmt_num(mbps[0])
        elif why == "extrapolated" and ex:
            t = "~%s (extrapolated)" % fmt_num(ex["mbps"])
        else:
            t = "n/a"
        nc, _ = v.many("nc-%d" % (8 * MB), c) if c != "fs_save" else (None, None)
        kas, _ = v.many("ka-%d" % (8 * MB), ka) if ka else (None, None)
        reqs = "%s / %s" % (fmt_num(nc[0]) if nc else "—", fmt_num(kas[0]) if kas else "—")
        ir_nc = v.ir("64-bit, 8 MB heap", c) if c in ("concat", "join", *BASELINES, "fs_content") else None
        ir_ka = v.ir("64-bit, 8 MB heap", "fs_session") if c == "fs_content" else None
        irs = "%s / %s" % (fmt_num(ir_nc) if ir_nc else "—", fmt_num(ir_ka) if ir_ka else "—")
        a, cp = v.alloc("32-bit", "100 KB", c), v.alloc_c("32-bit", "100 KB", c)
        mem = "%s + %s = %s" % (fmt_bytes(a), fmt_bytes(cp), fmt_bytes(a + cp)) if a and cp is not None else "—"
        name = {"fs_content": "fastsock `.content` (keep-alive: `Session`)"}.get(c, LABELS[c])
        rows.append([name, goes, t, reqs, irs, mem])
    recs = target_records(results)
    cnt = target_counts(recs)
    bad = [r for r in recs if r["judged"] and r["verdict"] in ("miss", "overlaps")]
    users = [r for r in recs if r["comparison"].startswith(USERS) and "8 MB heap" in r["target"]
             and "plain socket" not in r["target"]]
    L = [MARK_START,
         "Generated by `scripts/bench` (%s run, %s, commit `%s`, %s; median of %d rounds). Full report with "
         "plots, spreads and method: [docs/bench/report.md](docs/bench/report.md). Reproduce with "
         "`scripts/bench` (~%.0f min on 2 cores; `scripts/bench --quick` is a ~25 s smoke run)." % (
             m["mode"], m["date"], m["commit"].split()[0], m["machine"].split(",")[0], m["rounds"],
             max(1, m.get("runtime_s", 0) / 60)),
         "",
         table(["client (same host interpreter)", "body goes to", "%s MB/s" % big,
                "1 KB GETs/s new conn. each / keep-alive", "instructions per 1 KB GET new conn. / keep-alive",
                "memory per 100 KB body (32-bit): GC heap + C heap"], rows),
         "",
         "Compare rows with the same destination: `.content` with the in-memory clients, `save()` with "
         "`curl -o /dev/null`. Every body is checked against the served file's sha256 in every run. C heap: "
         "fastsock's receive buffer lives outside the GC heap (see the report's Memory section).",
         "",
         "Targets, judged like for like (same connection policy, same work): %d pass, %d miss, %d overlap "
         "the target within their min–max range%s." % (
             cnt["pass"], cnt["miss"], cnt["overlaps"], "" if not bad else " — " + "; ".join(
                 "%s: %s (%s, %s)" % (r["target"], r["measured"], r["ratio"], r["verdict"]) for r in bad)),
         "What users get (not judged: keep-alive `Session` against clients that cannot keep a connection): " +
         "; ".join("%s: %s" % (r["target"].split(", fastsock")[0], r["ratio"]) for r in users) + ".",
         MARK_END]
    return "\n".join(L)


def update_readme(results, path):
    path = pathlib.Path(path)
    text = path.read_text()
    block = readme_block(results)
    if MARK_START in text and MARK_END in text:
        pre, rest = text.split(MARK_START, 1)
        _, post = rest.split(MARK_END, 1)
        text = pre + block + post
    else:
        text = text.rstrip("\n") + "\n\n## Results\n\n" + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    res = json.loads(pathlib.Path(sys.argv[1]).read_text())
    res["targets"] = target_records(res)
    write(res, sys.argv[2])
    if len(sys.argv) > 3:
        update_readme(res, sys.argv[3])
