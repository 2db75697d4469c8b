# SPDX-License-Identifier: MIT
"""Bounded libFuzzer runs of the engine targets (tests/c/fuzz_*.c, built with clang by
tests/c/CMakeLists.txt): head parser, chunked decoder, and split independence. The three run
side by side for FS_FUZZ_SECONDS each (default 20 s, so ~20 s of CI); any crash, sanitizer
report or abort fails the test and leaves the input in build/engine/fuzz-artifacts/.
Longer runs: FS_FUZZ_SECONDS=600 pytest tests/test_engine_fuzz.py (see docs/engine.md)."""

import os
import shutil
import subprocess

import engine_support as es

FUZZERS = {"fuzz_head": "head", "fuzz_chunked": "chunked", "fuzz_split": "split"}


def test_fuzzers():
    build = es.build_engine()
    seconds = int(os.environ.get("FS_FUZZ_SECONDS", "20"))
    seeds = es.ROOT / "tests" / "fuzz" / "corpus"
    artifacts = build / "fuzz-artifacts"
    artifacts.mkdir(exist_ok=True)
    procs = {}
    for exe, corpus in FUZZERS.items():
        if not (build / exe).is_file():
            raise AssertionError(f"{exe} was not built: apt-get install {es.APT['clang']}")
        work = build / "fuzz-corpus" / corpus  # grows across runs; the seeds stay untouched
        work.mkdir(parents=True, exist_ok=True)
        log = open(build / f"{exe}.log", "w")
        cmd = [build / exe, work, seeds / corpus, f"-max_total_time={seconds}",
               f"-dict={es.ROOT / 'tests' / 'fuzz' / 'http.dict'}", "-max_len=9000",
               "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1",
               f"-artifact_prefix={artifacts}/{exe}-"]
        procs[exe] = (subprocess.Popen([str(c) for c in cmd], stdout=log,
                                       stderr=subprocess.STDOUT), log)
    failures = []
    for exe, (proc, log) in procs.items():
        rc = proc.wait(timeout=seconds + 120)
        log.close()
        text = (build / f"{exe}.log").read_text(errors="replace")
        runs = [line for line in text.splitlines() if line.startswith("Done ")]
        if rc != 0 or not runs:
            failures.append(f"{exe}: exit {rc}\n{text[-3000:]}")
        else:
            print(f"{exe}: {runs[-1]}")
    crashes = [p.name for p in artifacts.iterdir() if not p.name.startswith(".")]
    assert not failures, "\n\n".join(failures)
    assert not crashes, f"fuzzer artifacts left in {artifacts}: {crashes}"


def test_fuzz_tools_present():
    """The fuzz targets need clang's libFuzzer runtime, not only clang."""
    es.require("clang")
    assert shutil.which("clang")
