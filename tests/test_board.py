# SPDX-License-Identifier: MIT
"""boards/ESP32_NET: complete, consistent with MicroPython v1.28.0's esp32 port conventions,
and every path it names resolves (checked with CMake itself and a stand-in manifest API)."""

import json
import pathlib
import re
import shutil
import subprocess
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOARD = ROOT / "boards" / "ESP32_NET"
# Fragments the v1.28.0 esp32 port ships under ports/esp32/boards/ that this board may use.
PORT_FRAGMENTS = {"boards/sdkconfig.base", "boards/sdkconfig.ble", "boards/sdkconfig.spiram",
                  "boards/sdkconfig.240mhz"}
BOARD_JSON_KEYS = {"deploy", "deploy_options", "docs", "features", "images", "mcu", "product",
                   "thumbnail", "url", "variants", "vendor"}


def fragments():
    return sorted(BOARD.glob("sdkconfig.*"))


def parse_fragment(path):
    """CONFIG_ settings of one sdkconfig fragment, in order."""
    settings = {}
    for line in path.read_text().splitlines():
        if line.startswith("CONFIG_"):
            key, _, value = line.partition("=")
            settings[key] = value
    return settings


def cmake_eval(*includes):
    """Run the board's cmake files in CMake script mode; return what they set."""
    if shutil.which("cmake") is None:
        pytest.fail("cmake not found: apt-get install -y cmake")
    script = [f'set(MICROPY_BOARD_DIR "{BOARD}")']
    script += [f'include("{BOARD / name}")' for name in includes]
    script += ['message("IDF_TARGET=${IDF_TARGET}")',
               'foreach(f ${SDKCONFIG_DEFAULTS})\n  message("SDKCONFIG=${f}")\nendforeach()',
               'message("MANIFEST=${MICROPY_FROZEN_MANIFEST}")',
               'foreach(d ${MICROPY_DEF_BOARD})\n  message("DEF=${d}")\nendforeach()']
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "board-check.cmake"
        path.write_text("\n".join(script) + "\n")
        proc = subprocess.run(["cmake", "-P", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = {"SDKCONFIG": [], "DEF": []}
    for line in proc.stderr.splitlines():  # message() writes to stderr
        key, _, value = line.partition("=")
        if key in ("SDKCONFIG", "DEF"):
            out[key].append(value)
        elif key in ("IDF_TARGET", "MANIFEST"):
            out[key] = value
    return out


def check_sdkconfig_defaults(entries):
    assert entries[:2] == ["boards/sdkconfig.base", "boards/sdkconfig.ble"], entries
    for entry in entries:
        if entry.startswith("boards/"):
            assert entry in PORT_FRAGMENTS, f"{entry} is not one of the port's fragments"
        else:
            # CMake expanded ${MICROPY_BOARD_DIR}: board files must be absolute, inside the board.
            assert pathlib.Path(entry).parent == BOARD, f"{entry}: board fragments must be ${{MICROPY_BOARD_DIR}}/..."
            assert pathlib.Path(entry).is_file(), f"{entry} does not exist"


def test_required_files_exist():
    for name in ("board.json", "mpconfigboard.cmake", "mpconfigboard.h", "sdkconfig.board", "manifest.py"):
        assert (BOARD / name).is_file(), f"boards/ESP32_NET/{name} missing"
    assert not (BOARD / "partitions.csv").exists(), "the port's 4 MiB table is used; a CSV here needs an absolute path"


def test_board_json_fields():
    meta = json.loads((BOARD / "board.json").read_text())
    assert set(meta) == BOARD_JSON_KEYS, set(meta) ^ BOARD_JSON_KEYS
    assert meta["mcu"] == "esp32"
    assert meta["deploy_options"] == {"flash_offset": "0x1000"}
    assert "WiFi" in meta["features"]
    for key in ("product", "vendor", "url"):
        assert isinstance(meta[key], str) and meta[key], key
    for doc in meta["deploy"]:
        assert (BOARD / doc).resolve().is_file(), f"deploy doc {doc} missing"
    for variant in meta["variants"]:
        assert (BOARD / f"mpconfigvariant_{variant}.cmake").is_file(), variant
    for variant_file in BOARD.glob("mpconfigvariant_*.cmake"):
        assert variant_file.stem.split("_", 1)[1] in meta["variants"], f"{variant_file.name} not in board.json"


def test_mpconfigboard_h_names():
    text = (BOARD / "mpconfigboard.h").read_text()
    assert '#define MICROPY_HW_BOARD_NAME "ESP32_NET (fastsock)"' in text
    assert '#define MICROPY_HW_MCU_NAME "ESP32"' in text


def test_cmake_board_resolves():
    out = cmake_eval("mpconfigboard.cmake")
    assert out["IDF_TARGET"] == "esp32"
    check_sdkconfig_defaults(out["SDKCONFIG"])
    assert out["SDKCONFIG"][-1] == str(BOARD / "sdkconfig.board")
    assert out["MANIFEST"] == str(BOARD / "manifest.py") and pathlib.Path(out["MANIFEST"]).is_file()


def test_cmake_spiram_variant_resolves():
    out = cmake_eval("mpconfigboard.cmake", "mpconfigvariant_SPIRAM.cmake")
    check_sdkconfig_defaults(out["SDKCONFIG"])
    assert "boards/sdkconfig.spiram" in out["SDKCONFIG"]
    assert out["SDKCONFIG"][-1] == str(BOARD / "sdkconfig.spiram")
    assert out["DEF"] == ["ESP32_NET_VARIANT_SPIRAM=1"], out["DEF"]


def test_cmake_qemu_variant_resolves():
    out = cmake_eval("mpconfigboard.cmake", "mpconfigvariant_QEMU.cmake")
    check_sdkconfig_defaults(out["SDKCONFIG"])
    assert out["SDKCONFIG"][-1] == str(BOARD / "sdkconfig.qemu")
    assert "CONFIG_ETH_USE_OPENETH=y" in (BOARD / "sdkconfig.qemu").read_text()
    assert out["DEF"] == ["ESP32_NET_VARIANT_QEMU=1"], out["DEF"]


@pytest.mark.parametrize("variant", ["SPIRAM", "QEMU"])
def test_variant_definitions_survive_the_qstr_scan(variant):
    # MicroPython's qstr scan passes MICROPY_DEF_BOARD through a shell script unquoted: a value
    # with a space or parenthesis splits, and the scan then misreads every file (the build
    # failed on an undefined mp_module_string). Only plain NAME=token definitions are safe.
    out = cmake_eval("mpconfigboard.cmake", "mpconfigvariant_%s.cmake" % variant)
    for d in out["DEF"]:
        assert not any(c in d for c in " ()\"'"), d
    text = (BOARD / "mpconfigboard.h").read_text()
    assert "defined(%s)" % out["DEF"][0].split("=")[0] in text


def test_board_paths_in_cmake_use_board_dir_variable():
    checked = 0
    for path in BOARD.glob("*.cmake"):
        for line in path.read_text().splitlines():
            if line.lstrip().startswith("#"):
                continue
            for prefix, name in re.findall(r"([^\s(]*?)(sdkconfig\.\w+|manifest\.py|partitions[\w-]*\.csv)\b", line):
                if prefix == "boards/":
                    continue  # the port's own fragment, resolved against ports/esp32
                assert prefix == "${MICROPY_BOARD_DIR}/", f"{path.name}: {line.strip()} (relative board path)"
                assert (BOARD / name).is_file(), f"{path.name}: {name} does not exist"
                checked += 1
    assert checked >= 4


@pytest.mark.parametrize("path", fragments(), ids=lambda p: p.name)
def test_sdkconfig_fragment_format(path):
    text = path.read_text()
    assert text.endswith("\n"), f"{path.name} must end with a newline (fragments are concatenated)"
    lines = text.splitlines()
    seen = set()
    for i, line in enumerate(lines):
        if not line.strip() or line.startswith("#"):
            continue
        assert re.fullmatch(r"CONFIG_[A-Z0-9_]+=(y|n|-?\d+|0x[0-9a-fA-F]+|\"[^\"]*\")", line), line
        key = line.split("=")[0]
        assert key not in seen, f"{key} set twice in {path.name}"
        seen.add(key)
        assert i > 0 and lines[i - 1].startswith("# "), f"{key}: needs a one-line '# reason; cost' comment above"


def check_network_profile(cfg):
    mss = int(cfg["CONFIG_LWIP_TCP_MSS"])
    wnd = int(cfg["CONFIG_LWIP_TCP_WND_DEFAULT"])
    assert mss == 1440
    assert wnd <= 65535, "no window scaling: the window must fit 16 bits"
    assert int(cfg["CONFIG_LWIP_TCP_RECVMBOX_SIZE"]) >= wnd // mss + 2
    assert int(cfg["CONFIG_LWIP_TCP_SND_BUF_DEFAULT"]) >= 2 * mss
    # Out-of-order queue: IDF's Kconfig range is 0..12; at the default 4 one loss in a 16-segment
    # window costs timeouts (tests/test_lwip.py test_tap_loss at the board's options).
    assert int(cfg["CONFIG_LWIP_TCP_OOSEQ_MAX_PBUFS"]) == min(12, wnd // mss)
    assert int(cfg["CONFIG_ESP_WIFI_DYNAMIC_RX_BUFFER_NUM"]) >= wnd // mss
    assert int(cfg["CONFIG_ESP_WIFI_STATIC_RX_BUFFER_NUM"]) >= int(cfg["CONFIG_ESP_WIFI_RX_BA_WIN"])
    assert cfg["CONFIG_ESP_DEFAULT_CPU_FREQ_MHZ_240"] == "y" and cfg["CONFIG_ESP_DEFAULT_CPU_FREQ_MHZ"] == "240"
    assert cfg["CONFIG_MBEDTLS_ASYMMETRIC_CONTENT_LEN"] == "y"
    assert cfg.get("CONFIG_MBEDTLS_DYNAMIC_BUFFER") != "y", "needs DTLS off, which sdkconfig.base turns on"
    # sdkconfig.base turns the bundle off; without it https:// needs ca= on every call.
    assert cfg["CONFIG_MBEDTLS_CERTIFICATE_BUNDLE"] == "y"
    if int(cfg["CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN"]) > int(cfg["CONFIG_MBEDTLS_SSL_OUT_CONTENT_LEN"]):
        # mbedTLS 3.6 would shrink the input buffer to the output size after the handshake.
        assert cfg.get("CONFIG_MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH") != "y", "16 KB records would fail (-0x7100)"
    # IRAM is nearly full in MicroPython's ESP32 image: these stay off.
    for key in ("CONFIG_ESP_WIFI_IRAM_OPT", "CONFIG_ESP_WIFI_RX_IRAM_OPT", "CONFIG_LWIP_IRAM_OPTIMIZATION"):
        assert cfg[key] == "n", key


def test_network_profile_consistent():
    check_network_profile(parse_fragment(BOARD / "sdkconfig.board"))


def test_spiram_profile_consistent():
    cfg = parse_fragment(BOARD / "sdkconfig.board")
    cfg.update(parse_fragment(BOARD / "sdkconfig.spiram"))  # later fragments win, as in the port
    check_network_profile(cfg)
    assert cfg["CONFIG_SPIRAM_TRY_ALLOCATE_WIFI_LWIP"] == "y"


def run_manifest():
    """Execute manifest.py with a stand-in for MicroPython's manifest API; return the calls."""
    port_dir = "/nonexistent/micropython/ports/esp32"
    variables = {"$(PORT_DIR)": port_dir, "$(BOARD_DIR)": str(BOARD), "$(MPY_DIR)": "/nonexistent/micropython"}
    calls = []

    def resolve(path):
        for name, value in variables.items():
            path = path.replace(name, value)
        return (BOARD / path).resolve()

    def include(path, **kwargs):
        calls.append(("include", path))

    def module(module_path, base_path=".", opt=None):
        assert module_path.endswith(".py")
        calls.append(("module", resolve(base_path) / module_path))

    def package(package_path, files=None, base_path=".", opt=None):
        # As MicroPython's manifest: every .py file under base_path/package_path.
        assert files is None
        for path in sorted((resolve(base_path) / package_path).rglob("*.py")):
            calls.append(("module", path))

    def unexpected(*args, **kwargs):
        raise AssertionError(f"manifest uses an API this test does not model: {args}")

    api = {"include": include, "module": module, "package": package, "require": unexpected,
           "freeze": unexpected, "metadata": unexpected, "options": None}
    exec(compile((BOARD / "manifest.py").read_text(), "manifest.py", "exec"), api)
    return calls


def test_manifest_includes_port_manifest_then_fastsock():
    calls = run_manifest()
    assert calls[0] == ("include", "$(PORT_DIR)/boards/manifest.py")
    modules = [path for kind, path in calls if kind == "module"]
    # fastsock/_more.py is imported by the package and by the C Response type: both must ship.
    pkg = ROOT / "cmodules" / "fastsock" / "fastsock"
    assert modules == [pkg / "__init__.py", pkg / "_more.py"]


def test_frozen_module_exists_and_compiles():
    for kind, path in run_manifest():
        if kind == "module":
            assert path.is_file(), f"manifest names {path}, which does not exist"
            compile(path.read_text(), str(path), "exec")  # syntax check with CPython


def test_frozen_name_does_not_shadow_c_module():
    sources = " ".join(p.read_text() for p in (ROOT / "cmodules" / "fastsock").glob("*.c"))
    registered = re.findall(r"MP_REGISTER_MODULE\(MP_QSTR_(\w+)", sources)
    assert registered, "no MP_REGISTER_MODULE in cmodules/fastsock/*.c"
    assert "fastsock" not in registered, "the C module must not be named like the frozen fastsock package"
