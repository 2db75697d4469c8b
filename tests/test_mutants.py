# SPDX-License-Identifier: MIT
"""scripts/mutants.txt still fits the tree: each mutant's text occurs exactly once in its file
and the tests named to catch it exist, so the list cannot rot silently between runs of
scripts/mutants (which `make test` does not run: docs/testing.md says when to). Parsing only,
well under a second."""

import importlib.machinery
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent

# The seven mutants issue 29 found surviving the whole suite: each must stay on the list.
ISSUE_29 = ("body-direct-uncapped", "request-value-unchecked", "request-te-keeps-length", "pool-evicts-newest",
            "lwip-no-window-update", "py-303-keeps-post", "py-streams-repeatable")
# Every layer has mutants: the head parser and chunked decoder, bodies, the request writer, the
# pool, lwIP's window, TLS, the Python face (fastsock/__init__.py).
LAYERS = ("fs_http.c", "fs_body.c", "fs_request.c", "fs_pool.c", "fs_transport_lwip.c", "fs_tls.c", "__init__.py")


def load_script():
    loader = importlib.machinery.SourceFileLoader("fastsock_mutants", str(ROOT / "scripts" / "mutants"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def test_every_mutant_text_occurs_once_and_its_tests_exist():
    script = load_script()
    mutants = script.parse()
    assert script.problems(mutants) == [], "scripts/mutants.txt no longer fits the tree (fix the list)"
    ids = {m.id for m in mutants}
    assert set(ISSUE_29) <= ids, set(ISSUE_29) - ids
    files = {pathlib.Path(m.file).name for m in mutants}
    assert set(LAYERS) <= files, set(LAYERS) - files
    assert len(mutants) >= 23


def test_problems_are_reported(tmp_path):
    # The check itself: a text that occurs twice, or not at all, and a test that is gone.
    script = load_script()
    (tmp_path / "f.c").write_text("a;\na;\nb;\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("def test_y():\n    pass\n")
    listing = tmp_path / "list.txt"
    listing.write_text("# comment\n"
                       "== twice: a occurs twice\nfile: f.c\ntest: tests/test_x.py::test_y\n<<<\na;\n===\nc;\n>>>\n"
                       "== gone: z is not there\nfile: f.c\ntest: tests/test_x.py::test_z[host]\n<<<\nz;\n===\nc;\n>>>\n"
                       "== fine: b once\nfile: f.c\nbuild: host host-lwip\ntest: tests/test_x.py::test_y\n"
                       "<<<\nb;\n===\nc;\nd;\n>>>\n")
    mutants = script.parse(listing)
    assert [(m.id, m.builds, m.old, m.new) for m in mutants][2] == ("fine", ["host", "host-lwip"], "b;", "c;\nd;")
    assert script.problems(mutants, tmp_path) == [
        "twice: its text occurs 2 times in f.c (must be exactly once)",
        "gone: its text occurs 0 times in f.c (must be exactly once)",
        "gone: no test test_z in tests/test_x.py",
    ]
