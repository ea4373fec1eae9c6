"""JSON-native values: how Python values are stored as Redis strings, and read back.

FDB stores every value as a Redis string. The encoding keeps three promises:

1. ``str``, ``int``, ``float``, ``bool``, ``None``, ``list`` and ``dict`` round-trip with their
   types through :func:`encode` / :func:`decode`.
2. Numbers stay numbers for the server: an ``int`` is stored as its decimal text, so ``INCR``,
   ``INCRBY`` and ``DECR`` work on it and the result reads back as an ``int``.
3. Other clients (``redis-cli``) see readable text: JSON for containers, numbers and literals,
   and plain strings stored as themselves.

The rule, in full (see ``python/README.md`` for the table of edge cases):

* **Reading** (:func:`decode`): a value that begins with the bytes marker ``0xFF 0x00`` is
  the ``bytes`` after it. Otherwise the bytes are decoded as UTF-8 (bytes that are not valid UTF-8
  come back as ``bytes``, unchanged). If the whole text is one JSON value -- no leading or
  trailing whitespace, and not ``NaN``/``Infinity`` -- the value is that JSON value (a JSON
  integer becomes an ``int``, a number with a fraction or exponent a ``float``, ``true``/
  ``false`` a ``bool``, ``null`` ``None``, arrays ``list``, objects ``dict``, a JSON string
  ``str``). Any other text is returned as the ``str`` itself.
* **Writing** (:func:`encode`): ``int`` -> decimal text; ``float`` -> JSON number text (``999.99``,
  ``1.0``, ``1e+16``; NaN and infinities are refused); ``bool`` -> ``true``/``false``;
  ``None`` -> ``null``; ``list``/``tuple``/``dict`` -> compact JSON (UTF-8, not ASCII-escaped).
  A ``str`` is stored raw unless its raw text would read back as something else, that is,
  unless it parses as a JSON value by the reading rule above; then it is stored as a JSON string
  (``"42"`` is stored as ``"\\"42\\""``).
* **Bytes stay bytes.** ``bytes`` (and ``bytearray``/``memoryview``) that are not valid UTF-8
  and do not begin with the marker ``0xFF 0x00`` are stored verbatim: the reading rule already
  returns them as ``bytes``, and other clients see exactly those bytes. Any other bytes (text
  such as ``b"42"`` or ``b"hello"``, which would read back as ``42`` or ``"hello"``) are stored
  behind the two-byte marker ``0xFF 0x00`` (never valid UTF-8); reading strips it and returns
  ``bytes``. So ``b"42"`` reads back as ``b"42"``, and a value another client wrote that
  begins with ``0xFF 0x00`` reads back without those two bytes.

Speed. With `orjson <https://pypi.org/project/orjson/>`_ importable (a dependency of the
package), containers are written and JSON text is read with it (an 80-byte dict: ~0.35 µs to
encode, ~0.7 µs to decode, against ~2 µs each with :mod:`json`); without it, :mod:`json` does
everything. The rules above hold with either backend; where orjson differs from :mod:`json` the
stdlib decides:

* ints beyond 64 bits (orjson refuses to write them, and reads them as floats), dict keys that
  are not ``str``, float subclasses, lone surrogates and nesting deeper than 255 are written by
  :mod:`json`; a text with a run of 19 or more digits is read by :mod:`json`;
* orjson writes NaN and infinities as ``null``: an output that contains ``null`` is written
  again by :mod:`json`, which refuses them (``ValueError``) or writes the document;
* text orjson refuses (``1e400``, which :mod:`json` reads as ``inf``; ``\\ud800`` escapes) is
  tried again with :mod:`json`.

What differs: a float *inside a container* may be written in orjson's shortest form (``1e16``,
``0.00001``, ``1e-7``) instead of Python's ``repr`` (``1e+16``, ``1e-05``, ``1e-07``); both read
back as the same float (a float on its own is still written as its ``repr``). orjson also writes
a few types :mod:`json` refuses when they are nested in a container -- ``uuid.UUID`` (as its
text) and non-``int``/``str`` ``enum.Enum`` members (as their value) -- instead of raising
``TypeError``; both read back as plain JSON values. And a document nested more deeply than the
interpreter's recursion limit lets :mod:`json` parse (~1000 levels) is JSON for orjson, text
for :mod:`json`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Dict, List, Tuple, Union

try:
    import orjson as _orjson_module
except ImportError:  # pragma: no cover - orjson is a dependency; json is the fallback
    _orjson_module = None

__all__ = ["JSONValue", "encode", "decode", "looks_like_json", "backend", "BYTES_MARKER",
           "MAX_VALUE_SIZE"]

#: The values FDB stores natively.
JSONValue = Union[str, int, float, bool, None, List[Any], Dict[str, Any]]

# The JSON library used for containers and JSON text besides json: orjson, or None (json only).
# Read on every call, so tests can set it to None to run the fallback.
_orjson: Any = _orjson_module
# datetime and dataclass values are refused, as json refuses them (orjson would write them).
_OJ_OPTIONS = (_orjson_module.OPT_PASSTHROUGH_DATETIME | _orjson_module.OPT_PASSTHROUGH_DATACLASS
               if _orjson_module is not None else 0)

# The first character of every JSON value (no leading whitespace is allowed by the rule).
_JSON_START = frozenset('{["-0123456789tfn')
_JSON_WS = " \t\n\r"
#: The largest value FDB stores: fdb-server's default ``proto-max-bulk-len`` (512 MB), the
#: longest string its protocol accepts. A longer value would be cut off by the server as a
#: protocol error (the client would only see its connection closed), so :func:`encode` refuses
#: it with a ``ValueError`` naming this limit.
MAX_VALUE_SIZE = 512 * 1024 * 1024

#: The prefix of ``bytes`` values that would otherwise read back as text (see the docstring).
BYTES_MARKER = b"\xff\x00"
_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
# orjson reads an integer outside [-2**63, 2**64) as a float. Such an integer has 19 digits or
# more: a text with 19 digits in a row is read by json. (Digits -> "0", the rest -> ".", then a
# substring search: ~0.1 µs for 80 bytes, 5x faster than a regular expression.)
_DIGITS_TO_0 = bytes(48 if 48 <= i <= 57 else 46 for i in range(256))
_DIGITS_TO_0_STR = str.maketrans({chr(i): "0" if 48 <= i <= 57 else "." for i in range(128)})
_DIGIT_RUN = b"0" * 19
_DIGIT_RUN_STR = "0" * 19


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def backend() -> str:
    """The JSON library in use besides :mod:`json`: ``"orjson"``, or ``"json"`` alone."""
    return "json" if _orjson is None else "orjson"


def _json_loads(text: str) -> Tuple[bool, Any]:
    """``text`` (past the cheap checks of :func:`_parse`) as one JSON value, or ``(False,
    None)``."""
    oj = _orjson
    if oj is not None:
        try:
            value = oj.loads(text)
        except ValueError:  # orjson.JSONDecodeError; json may still accept it (see above)
            pass
        else:
            if len(text) < 19 or text.translate(_DIGITS_TO_0_STR).find(_DIGIT_RUN_STR) < 0:
                return True, value
    try:
        return True, _DECODER.decode(text)
    except (ValueError, RecursionError):
        return False, None


def _parse(text: str) -> Tuple[bool, Any]:
    """Parse ``text`` as exactly one JSON value; return ``(True, value)`` or ``(False, None)``."""
    if not text or text[0] not in _JSON_START or text[-1] in _JSON_WS:
        return False, None
    if _INT_RE.match(text):
        try:
            return True, int(text)
        except ValueError:  # more digits than sys.get_int_max_str_digits() allows
            return False, None
    if text == "true":
        return True, True
    if text == "false":
        return True, False
    if text == "null":
        return True, None
    if text[0] in "tfn":
        return False, None
    return _json_loads(text)


def looks_like_json(text: str) -> bool:
    """True if ``text``, stored raw, would read back as something other than this ``str``."""
    return _parse(text)[0]


def _checked(data: bytes) -> bytes:
    if len(data) > MAX_VALUE_SIZE:
        raise ValueError(
            f"value too large: {len(data)} bytes encoded, over FDB's limit of {MAX_VALUE_SIZE} "
            f"bytes ({MAX_VALUE_SIZE // (1024 * 1024)} MB, fdb-server's proto-max-bulk-len)")
    return data


def _dump_container(value: Any) -> bytes:
    oj = _orjson
    if oj is not None:
        try:
            out = oj.dumps(value, option=_OJ_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError: json decides (see the module docstring)
            pass
        else:
            if out.find(b"null") < 0:  # NaN and infinities are written as null by orjson
                return out if len(out) <= MAX_VALUE_SIZE else _checked(out)
    try:
        return _checked(_ENCODER.encode(value).encode("utf-8"))
    except TypeError as e:
        raise TypeError(f"FDB stores JSON values only: {e}") from None
    except ValueError as e:
        raise ValueError(f"FDB stores JSON values only: {e}") from None


def _encode_bytes(data: bytes) -> bytes:
    if not data.startswith(BYTES_MARKER):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return _checked(data)  # reads back as these bytes by the reading rule
    return _checked(BYTES_MARKER + data)


def encode(value: Any) -> bytes:
    """Encode a Python value as the bytes FDB stores (see the module docstring).

    Raises:
        TypeError: for a type FDB does not store (sets, objects, ...), also inside containers.
        ValueError: for NaN or an infinite float, also inside containers.
    """
    cls = type(value)
    if cls is dict or cls is list:  # the common case first
        return _dump_container(value)
    if isinstance(value, str):
        if _parse(value)[0]:
            return _checked(_ENCODER.encode(value).encode("utf-8"))
        out = value.encode("utf-8")
        return out if len(out) <= MAX_VALUE_SIZE else _checked(out)
    if value is None:
        return b"null"
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int):
        return str(int(value)).encode("ascii")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"FDB stores JSON numbers only; {value!r} is not one")
        return float.__repr__(value).encode("ascii")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _encode_bytes(bytes(value))
    if isinstance(value, (list, tuple, dict)):
        return _dump_container(value)
    raise TypeError(
        f"FDB stores str, int, float, bool, None, list, dict (and raw bytes); "
        f"got {type(value).__name__}"
    )


def decode(data: Union[bytes, bytearray, memoryview, str]) -> Any:
    """Decode stored bytes into a Python value (see the module docstring).

    Text that is not valid UTF-8 comes back as ``bytes``; text that is not exactly one JSON value
    comes back as the ``str`` itself.
    """
    oj = _orjson
    if oj is not None and type(data) is bytes and data and data[0] in b"{[" and data[-1] in b"}]":
        # A JSON document, most likely: orjson reads the bytes directly (it also checks that
        # they are UTF-8). No surrounding whitespace is possible here.
        try:
            value = oj.loads(data)
        except ValueError:
            pass  # the general path decides
        else:
            if len(data) < 19 or data.translate(_DIGITS_TO_0).find(_DIGIT_RUN) < 0:
                return value
    if isinstance(data, str):
        text = data
    else:
        if data[:2] == BYTES_MARKER:
            return bytes(data[2:])
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            return bytes(data)
    ok, value = _parse(text)
    return value if ok else text
