# SPDX-License-Identifier: MIT
"""The Python face's layers run one way (docs/design.md): _fastsock (C) <- fastsock._more (the
leaf) <- fastsock (the package). The leaf never imports the package above it, C reaches only
the leaf, and `import fastsock` loads no leaf (the device's import heap stays small)."""
import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
PKG = ROOT / "cmodules" / "fastsock" / "fastsock"
# What MicroPython itself provides; anything else a module imports must be a layer below it.
BUILTINS = {"os", "time", "json", "deflate", "sys", "gc", "binascii"}


def leaves():
    return sorted(p for p in PKG.glob("*.py") if p.name != "__init__.py")


def imports(path):
    """Every module name a Python file imports, at any depth (lazy imports count too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import (MicroPython resolves them differently)"
            names.add(node.module)
    return names


def test_the_package_has_the_modules_the_design_names():
    assert sorted(p.name for p in PKG.glob("*.py")) == ["__init__.py", "_more.py"]


def test_leaves_import_nothing_above_them():
    for leaf in leaves():
        found = imports(leaf) - BUILTINS
        assert found <= {"_fastsock"}, f"{leaf.name} imports {sorted(found - {'_fastsock'})}: a leaf imports only _fastsock"


def test_the_package_imports_only_its_leaves_and_c():
    found = imports(PKG / "__init__.py") - BUILTINS
    assert found <= {"_fastsock", "fastsock"} | {"fastsock." + p.stem for p in leaves()}, sorted(found)


def test_c_reaches_only_the_leaf():
    # The C Response calls cold paths written in Python: only in the leaf, never the package.
    sources = {p.name: p.read_text() for p in (ROOT / "cmodules" / "fastsock").glob("*.c")}
    imported = {(name, q or s) for name, text in sources.items()
                for q, s in re.findall(r'mp_import_name\((?:MP_QSTR_(\w+)|qstr_from_str\("([^"]+)"\))', text)}
    assert len(imported) == sum(t.count("mp_import_name(") for t in sources.values()), "an import this test cannot read"
    fastsock = {(name, q) for name, q in imported if "fastsock" in q}
    assert fastsock == {("fs_response.c", "fastsock._more")}, imported
    assert {q for _, q in imported} - {"fastsock._more"} <= BUILTINS, imported


def test_import_fastsock_loads_no_leaf(mp64, tmp_path):
    out = mp64.run(
        """
        import sys, fastsock
        print(sorted(m for m in sys.modules if "fastsock" in m))
        fastsock.HTTPError
        print(sorted(m for m in sys.modules if "fastsock" in m))
        """,
        tmp_path,
    )
    assert out.splitlines() == ["['fastsock']", "['fastsock', 'fastsock._more']"]


def design_table(title):
    """docs/design.md's dependency table after the line ending in `title`: {file cell: (owns, deps)}."""
    text = (ROOT / "docs" / "design.md").read_text()
    text = text[text.index(title):]
    rows = {}
    for line in text.splitlines()[2:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] in ("file", "---"):
            continue
        rows[cells[0]] = (cells[1], cells[2])
    return rows


def names(cell):
    return set(re.findall(r"`([^`]+)`", cell))


def test_design_picture_of_the_python_package_is_true():
    rows = design_table("Python (`cmodules/fastsock/fastsock/`)")
    assert {c.strip("`") for c in rows} == {p.name for p in PKG.glob("*.py")}
    for cell, (_, deps) in rows.items():
        found = imports(PKG / cell.strip("`")) - BUILTINS - {"fastsock"}
        assert names(deps) == found, (cell, sorted(found))


def test_design_picture_of_the_c_files_is_true():
    src = ROOT / "cmodules" / "fastsock"
    rows = design_table("C (`cmodules/fastsock/`)")
    described = set()
    for cell, (_, deps) in rows.items():
        files = re.findall(r"`([^`]+)`", cell)
        if len(files) == 2:  # "`fs_x.c` / `.h`": the .c's includes / the .h's
            files = [files[0], files[0][:-2] + ".h"]
        parts = re.split(r"\s*/\s*", deps) if len(files) == 2 else [deps]
        for name, part in zip(files, parts, strict=True):
            own = name[:-2] + ".h"
            found = set(re.findall(r'#include "(fs_\w+\.h)"', (src / name).read_text())) - {own}
            assert names(part) == found, (name, sorted(found))
            described.add(name)
    assert described == {p.name for p in src.iterdir() if p.suffix in (".c", ".h")}
