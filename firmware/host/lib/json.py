# SPDX-License-Identifier: MIT
# Host-only stand-in for MicroPython's C `json` module (extmod/modjson.c is not in the core
# sdist the host port is built from). Same names and results for valid JSON: loads, dumps,
# load, dump. The device firmware uses MicroPython's own json.

_ESC = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_WS = " \t\n\r"


def _err(s, i, what):
    raise ValueError("syntax error in JSON: %s at %d" % (what, i))


def _skip(s, i):
    n = len(s)
    while i < n and s[i] in _WS:
        i += 1
    return i


def _string(s, i):
    # s[i] is the opening quote
    out = []
    i += 1
    start = i
    while True:
        if i >= len(s):
            _err(s, i, "unterminated string")
        c = s[i]
        if c == '"':
            out.append(s[start:i])
            return "".join(out), i + 1
        if c == "\\":
            out.append(s[start:i])
            e = s[i + 1 : i + 2]
            if e == "u":
                code = int(s[i + 2 : i + 6], 16)
                i += 6
                if 0xD800 <= code < 0xDC00 and s[i : i + 2] == "\\u":
                    low = int(s[i + 2 : i + 6], 16)
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                out.append(chr(code))
            elif e in _ESC:
                out.append(_ESC[e])
                i += 2
            else:
                _err(s, i, "bad escape")
            start = i
        else:
            i += 1


def _value(s, i):
    i = _skip(s, i)
    if i >= len(s):
        _err(s, i, "unexpected end")
    c = s[i]
    if c == "{":
        d = {}
        i = _skip(s, i + 1)
        if s[i : i + 1] == "}":
            return d, i + 1
        while True:
            i = _skip(s, i)
            if s[i : i + 1] != '"':
                _err(s, i, "expected key")
            k, i = _string(s, i)
            i = _skip(s, i)
            if s[i : i + 1] != ":":
                _err(s, i, "expected ':'")
            d[k], i = _value(s, i + 1)
            i = _skip(s, i)
            if s[i : i + 1] == ",":
                i += 1
            elif s[i : i + 1] == "}":
                return d, i + 1
            else:
                _err(s, i, "expected ',' or '}'")
    if c == "[":
        lst = []
        i = _skip(s, i + 1)
        if s[i : i + 1] == "]":
            return lst, i + 1
        while True:
            v, i = _value(s, i)
            lst.append(v)
            i = _skip(s, i)
            if s[i : i + 1] == ",":
                i += 1
            elif s[i : i + 1] == "]":
                return lst, i + 1
            else:
                _err(s, i, "expected ',' or ']'")
    if c == '"':
        return _string(s, i)
    for word, val in (("true", True), ("false", False), ("null", None)):
        if s.startswith(word, i):
            return val, i + len(word)
    j = i
    while j < len(s) and s[j] in "+-0123456789.eE":
        j += 1
    if j == i:
        _err(s, i, "unexpected character")
    num = s[i:j]
    try:
        return (float(num) if ("." in num or "e" in num or "E" in num) else int(num)), j
    except ValueError:
        _err(s, i, "bad number")


def loads(s):
    if isinstance(s, (bytes, bytearray, memoryview)):
        s = str(s, "utf-8")
    v, i = _value(s, 0)
    if _skip(s, i) != len(s):
        _err(s, i, "extra data")
    return v


def load(stream):
    return loads(stream.read())


def _quote(s):
    out = ['"']
    for c in s:
        if c == '"':
            out.append('\\"')
        elif c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20:
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def dumps(obj, separators=None):
    item_sep, key_sep = separators or (", ", ": ")
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, str):
        return _quote(obj)
    if isinstance(obj, (int, float)):
        return repr(obj)
    if isinstance(obj, (list, tuple)):
        return "[" + item_sep.join(dumps(v, separators) for v in obj) + "]"
    if isinstance(obj, dict):
        return "{" + item_sep.join(
            _quote(str(k)) + key_sep + dumps(v, separators) for k, v in obj.items()) + "}"
    raise TypeError("%r is not JSON serializable" % (obj,))


def dump(obj, stream, separators=None):
    stream.write(dumps(obj, separators))
