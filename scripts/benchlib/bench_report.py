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
    "fs_content": "#1f77b4",
    "fs_session": "#17becf", "fs_readinto": "#2ca02c", "fs_save": "#9467bd", "lwip_save": "#bcbd22",
    "lwip_content": "#bcbd22", "lwip_session": "#bcbd22", "netconn_slirp": "#7f7f7f",
    "lwip_tap_save": "#e377c2", "netconn_tap": "#c7c7c7", "cpython": "#393b79", "cpython_ka": "#393b79",
    "curl": "#000000", "curl_ka": "#000000",
}


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

    def reads(self, arch, key, client):
        return ((self.res["reads"].get(arch) or {}).get(key) or {}).get(client) or {}

    def minheap(self, arch, name):
        return (self.res["minheap"].get(arch) or {}).get(name)


# ---- targets


def targets(v):
    """Rows: (target, measured, reference, ratio text, verdict)."""
    rows = []
    big = v.big_label

    def verdict(ok):
        return "n/a" if ok is None else ("**PASS**" if ok else "**MISS**")

    curl, _, _ = v.tput("cl", v.big, "curl")
    for client, coding in (("fs_save", "cl"), ("fs_readinto", "cl"), ("fs_content", "cl"), ("fs_save", "chunked")):
        fs, _, _ = v.tput(coding, v.big, client)
        ref, _, _ = v.tput(coding, v.big, "curl")
        ratio = fs[0] / ref[0] if fs and ref else None
        rows.append(("%s download (%s), %s: MB/s ≥ 0.5× curl" % (
            big, "Content-Length" if coding == "cl" else "chunked", LABELS[client]),
            "%s MB/s" % fmt_num(fs[0]) if fs else "n/a",
            "curl %s MB/s" % fmt_num(ref[0]) if ref else "n/a",
            "%.2f×" % ratio if ratio is not None else "n/a", verdict(None if ratio is None else ratio >= 0.5)))
    del curl
    n = None
    for heap in (8 * MB, 128 * KB):
        fs, _ = v.many("ka-%d" % heap, "fs_session")
        ur, _ = v.many("nc-%d" % heap, "urequests")
        ratio = fs[0] / ur[0] if fs and ur else None
        runs = v.many_runs("ka-%d" % heap, "fs_session")
        n = runs[0]["bytes"] // KB if runs else n
        rows.append(("%s small GETs on a Session ≥ 3× urequests req/s (%s heap)" % (
            fmt_num(n or 0), size_label(heap)),
            "%s req/s" % fmt_num(fs[0]) if fs else "n/a",
            "urequests %s req/s (new connection each: it sends HTTP/1.0)" % fmt_num(ur[0]) if ur else "n/a",
            "%.1f×" % ratio if ratio is not None else "n/a", verdict(None if ratio is None else ratio >= 3)))
    for config in v.res["callgrind"] or ("64-bit, 8 MB heap", "32-bit, 128 KB heap"):
        fs = v.ir(config, "fs_session")
        ur = v.ir(config, "urequests")
        plains = [x for x in (v.ir(config, "concat"), v.ir(config, "join")) if x]
        pl = min(plains) if plains else None
        r1 = fs / ur if fs and ur else None
        r2 = fs / pl if fs and pl else None
        ctl = v.ir(config, "urequests_fs")
        ref = "urequests %s Ir" % fmt_num(ur) if ur else "n/a"
        if ur and fs and ctl:
            ref += " (control, with fastsock imported but unused: %s Ir, ratio %.3f×)" % (fmt_num(ctl), fs / ctl)
        rows.append(("Instructions per 1 KB GET, Session ≤ 0.15× urequests (%s)" % config,
                     "%s Ir" % fmt_num(fs) if fs else "n/a", ref,
                     "%.3f×" % r1 if r1 is not None else "n/a", verdict(None if r1 is None else r1 <= 0.15)))
        rows.append(("Instructions per 1 KB GET, Session ≤ 0.5× plain socket (%s)" % config,
                     "%s Ir" % fmt_num(fs) if fs else "n/a",
                     "plain socket %s Ir (the cheaper variant)" % fmt_num(pl) if pl else "n/a",
                     "%.3f×" % r2 if r2 is not None else "n/a", verdict(None if r2 is None else r2 <= 0.5)))
    for arch in ("32-bit", "64-bit"):
        base = v.minheap(arch, "fastsock baseline")
        save = v.minheap(arch, "fastsock save() big")
        ok = None
        if base and save and base["works"] and save["works"]:
            extra = save["works"] - base["works"]
            ok = extra <= 16 * KB
            meas = "%s (baseline %s)" % (fmt_bytes(save["works"]), fmt_bytes(base["works"]))
            ratio = "+%s" % fmt_bytes(extra)
        else:
            meas, ratio = "n/a", "n/a"
        rows.append(("Smallest heap for a %s `save()`: ≤ 16 KB above baseline (%s)" % (big, arch), meas,
                     "baseline: `import fastsock` + open the output file", ratio, verdict(ok)))
    for arch in ("64-bit", "32-bit"):
        a = v.alloc(arch, "100 KB", "fs_content")
        ok = None if a is None else a <= 100 * KB + 2 * KB
        rows.append(("`get(url).content` of 100 KB: heap allocated ≤ body + 2 KB (%s)" % arch,
                     fmt_bytes(a), "body 100 KB + 2 KB = 102 KB",
                     "body + %s" % fmt_bytes(a - 100 * KB) if a is not None else "n/a", verdict(ok)))
    for client in ("fs_readinto", "fs_save"):
        worst, fixed, ok, parts = None, 0, None, []
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
        if worst is not None:
            ok = worst <= 0
        rows.append(("%s of %s: 0 bytes of heap per read (gc.mem_alloc)" % (LABELS[client], big),
                     "%s B per read" % fmt_num(max(worst, 0)) if worst is not None else "n/a",
                     "fixed per call: %s (%s)" % (fmt_bytes(fixed), ", ".join(parts)) if parts else "n/a",
                     "—", verdict(ok)))
    for heap in (8 * MB, 128 * KB):
        runs = v.many_runs("ka-%d" % heap, "fs_session")
        if runs:
            conns = max(r.get("connections", 0) for r in runs)
            reused = min(r.get("reused", 0) for r in runs)
            drift = max(abs(r.get("retained", 0)) for r in runs)
            n = runs[0]["bytes"] // KB
            ok = conns == 0 and reused == n and drift <= KB
            meas = "%d new connections, %d reused; heap after: %+d B (worst of %d rounds)" % (
                conns, reused, drift, len(runs))
        else:
            ok, meas = None, "n/a"
        rows.append(("Session GETs reuse one connection and return the heap to baseline ± 1 KB (%s heap)" %
                     size_label(heap), meas, "one connection opened by the warm-up request", "—", verdict(ok)))
    have = [v.tput("cl", s, c)[0] is not None for s in (KB, 100 * KB) for c in ("concat", "join")]
    have.append(v.tput("cl", v.big, "join")[0] is not None)
    have.append(bool(v.res.get("concat_extrapolation")))
    ran = bool(v.res["tput"]) and any(s.get("runs") for c in v.res["tput"].values() for s in c["clients"].values())
    rows.append(("Report shows both plain-socket variants (`buf += d` and list + join)",
                 "%d of %d cells measured" % (sum(have), len(have)) if ran else "n/a",
                 "`buf += d` at %s: extrapolated (see below)" % big, "—", verdict(all(have) if ran else None)))
    return rows


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
        clients = ["concat", "join", "urequests", "fs_content", "fs_readinto", "fs_save", "lwip_save",
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
                         else "chunked bodies (urequests: HTTP/1.0, close-delimited)")
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
        mp = ["concat", "join", "urequests", "fs_content", "fs_session", "fs_readinto", "fs_save"]
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
                 ("urequests big", "urequests"), ("list + join 100 KB", "join"), ("list + join big", "join"),
                 ("buf += d 100 KB", "concat")]
        bases = {"fa": "fastsock baseline", "ur": "urequests baseline", "li": "plain socket baseline",
                 "bu": "plain socket baseline"}
        bars = []
        for name, c in names:
            m = v.minheap("32-bit", name)
            b = v.minheap("32-bit", bases[name[:2]])
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
        cl = [c for c in ("concat", "join", "urequests", "urequests_fs", "fs_content", "fs_session")
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
    L.append("- fastsock %s; %s; %s" % (m["fastsock"], m["urequests"], m["lwip"]))
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
    rows = targets(v)
    L.append(table(["target", "measured", "reference", "ratio", "verdict"], rows))
    misses = [r for r in rows if "MISS" in r[4]]
    L.append("")
    if misses:
        L.append("Missed: " + "; ".join("%s — measured %s (%s)" % (r[0], r[1], r[3]) for r in misses) + ".")
    else:
        L.append("All targets with data pass.")
    L.append("")

    # Throughput.
    L.append("## Throughput by body size (MB/s, 10^6 bytes/s; new connection per request)")
    L.append("")
    clients = ["concat", "join", "urequests", "fs_content", "fs_readinto", "fs_save", "lwip_save",
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
    L.append("urequests sends HTTP/1.0, so nginx answers its `/chunked/<n>` requests with a close-delimited "
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
        order = ["fs_session", "lwip_session", "cpython_ka", "curl_ka", "concat", "join", "urequests", "fs_content",
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
        L.append("The plain-socket client closes after each request and urequests 0.9.1 sends HTTP/1.0 with "
                 "`Connection: close`: neither can keep a connection alive. External clients have no "
                 "MicroPython heap (—). Times are taken inside each process after one warm-up request.")
        L.append("")
        if "requests.png" in pngs:
            L.append("![requests per second](requests.png)")
            L.append("")

    # Heap.
    if res["alloc"]:
        L.append("## MicroPython heap")
        L.append("")
        L.append("### Allocated per request (`gc.mem_alloc()` delta with the GC off, after one warm-up request)")
        L.append("")
        mp = ["concat", "join", "urequests", "fs_content", "fs_session", "fs_readinto", "fs_save"]
        rows = []
        for c in mp:
            row = [LABELS[c]]
            for key, body in (("1 KB", KB), ("100 KB", 100 * KB)):
                for arch in ("64-bit", "32-bit"):
                    a = v.alloc(arch, key, c)
                    row.append("%s (%.2f× body)" % (fmt_bytes(a), a / body) if a is not None else "n/a")
            rows.append(row)
        L.append(table(["client", "1 KB, 64-bit", "1 KB, 32-bit", "100 KB, 64-bit", "100 KB, 32-bit"], rows))
        L.append("")
        L.append("Block-rounded bytes (the GC allocates 32 B blocks on 64-bit, 16 B on 32-bit); results.json "
                 "also has the bytes requested (`micropython.mem_total()` deltas). `readinto` uses one 4 KB "
                 "buffer allocated before the requests; `save()` writes to an already open `/dev/null`.")
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
        L.append("### Smallest heap that completes the download (binary search over `-X heapsize`)")
        L.append("")
        L.append("This is the peak heap a client needs: `micropython.mem_info()`'s peak counts bytes not yet "
                 "freed explicitly and never subtracts what the GC sweeps, so on a GC heap it tracks the total "
                 "allocated, not the live peak. Each client's baseline is the same script without the request "
                 "(its imports; for fastsock also opening the output file). The host compiles `fastsock.py` "
                 "from source at import, which dominates its baseline; on the device it is frozen bytecode.")
        L.append("")
        rows = []
        names = list(res["minheap"].get("32-bit", {}))
        for name in names:
            base_name = {"fa": "fastsock baseline", "ur": "urequests baseline", "pl": "plain socket baseline",
                         "li": "plain socket baseline", "bu": "plain socket baseline"}[name[:2]]
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
        for c in ("concat", "join", "urequests", "urequests_fs", "fs_content", "fs_session"):
            if not any(v.ir(conf, c) for conf in configs):
                continue
            row = [LABELS[c]]
            for conf in configs:
                ir = v.ir(conf, c)
                ses = v.ir(conf, "fs_session")
                if ir is None:
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
                 "heap it must mark: on the host, fastsock.py is compiled into the heap at import (~10 KB "
                 "more live data than urequests on 32-bit), whereas on the device it is frozen bytecode "
                 "in flash. The control row (urequests with fastsock imported but unused) shows how much "
                 "of a client's figure that live module alone adds.")
        L.append("")
        if "instructions.png" in pngs:
            L.append("![instructions per request](instructions.png)")
            L.append("")

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
    L.append("- The plain-socket client is the seed chapter's (`scripts/benchlib/seed_client.py`): getaddrinfo, "
             "connect, send, `recv(512)` until the server closes, head split by hand — with `buf += d` as "
             "beginners write it, and with a list joined once.")
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
    for c, tp, ka, ir in (("concat", "concat", None, "concat"), ("join", "join", None, "join"),
                          ("urequests", "urequests", None, "urequests"),
                          ("fs_save", "fs_save", "fs_session", "fs_session"),
                          ("cpython", "cpython", "cpython_ka", None), ("curl", "curl", "curl_ka", None)):
        mbps, _, why = v.tput("cl", v.big, tp)
        if mbps:
            t = fmt_num(mbps[0])
        elif why == "extrapolated" and ex:
            t = "~%s (extrapolated)" % fmt_num(ex["mbps"])
        else:
            t = "n/a"
        nc, _ = v.many("nc-%d" % (8 * MB), "fs_content" if c == "fs_save" else c)
        kas, _ = v.many("ka-%d" % (8 * MB), ka) if ka else (None, None)
        reqs = "%s / %s" % (fmt_num(kas[0]) if kas else "—", fmt_num(nc[0]) if nc else "n/a")
        irv = v.ir("64-bit, 8 MB heap", ir) if ir else None
        alloc = v.alloc("32-bit", "100 KB", "fs_content" if c == "fs_save" else c)
        name = {"fs_save": "fastsock (`save()`; Session for keep-alive)"}.get(c, LABELS[c])
        rows.append([name, t, reqs, fmt_num(irv) if irv else "—", fmt_bytes(alloc) if alloc else "—"])
    tg = targets(v)
    npass = sum("PASS" in r[4] for r in tg)
    nmiss = sum("MISS" in r[4] for r in tg)
    L = [MARK_START,
         "Generated by `scripts/bench` (%s run, %s, commit `%s`, %s; median of %d rounds). Full report with "
         "plots, spreads and method: [docs/bench/report.md](docs/bench/report.md). Reproduce with "
         "`scripts/bench` (~%.0f min on 2 cores; `scripts/bench --quick` is a ~25 s smoke run)." % (
             m["mode"], m["date"], m["commit"].split()[0], m["machine"].split(",")[0], m["rounds"],
             max(1, m.get("runtime_s", 0) / 60)),
         "",
         table(["client (same host interpreter)", "%s MB/s" % big, "1 KB GETs/s keep-alive / new conn.",
                "instructions per 1 KB GET", "heap per 100 KB `.content` (32-bit)"], rows),
         "",
         "Targets: %d pass, %d miss%s." % (npass, nmiss, "" if not nmiss else " — " + "; ".join(
             "%s: %s (%s)" % (r[0], r[1], r[3]) for r in tg if "MISS" in r[4])),
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
    write(res, sys.argv[2])
    if len(sys.argv) > 3:
        update_readme(res, sys.argv[3])
