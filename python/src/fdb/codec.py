"""JSON-native values: how Python values are stored as Redis strings, and read back.

FDB stores every value as a Redis string. The encoding keeps three promises:

1. ``str``, ``int``, ``float``, ``bool``, ``None``, ``list`` and ``dict`` round-trip with their
   types through :func:`encode` / :func:`decode`.
2. Numbers stay numbers for the server: an ``int`` is stored as its decimal text, so ``INCR``,
   ``INCRBY`` and ``DECR`` work on it and the result reads back as an ``int``.
3. Other clients (``redis-cli``) see readable text: JSON for containers, numbers and literals,
   and plain strings stored as themselves.

The rule, in full (see ``python/README.md`` for the table of edge cases):

* **Reading** (:func:`decode`): the bytes are decoded as UTF-8 (bytes that are not valid UTF-8
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
  (``"42"`` is stored as ``"\\"42\\""``). ``bytes`` are stored verbatim and read back by the
  reading rule.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Dict, List, Tuple, Union

__all__ = ["JSONValue", "encode", "decode", "looks_like_json"]

#: The values FDB stores natively.
JSONValue = Union[str, int, float, bool, None, List[Any], Dict[str, Any]]

# The first character of every JSON value (no leading whitespace is allowed by the rule).
_JSON_START = frozenset('{["-0123456789tfn')
_JSON_WS = " \t\n\r"
_INT_RE = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


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
    try:
        return True, _DECODER.decode(text)
    except (ValueError, RecursionError):
        return False, None


def looks_like_json(text: str) -> bool:
    """True if ``text``, stored raw, would read back as something other than this ``str``."""
    return _parse(text)[0]


def encode(value: Any) -> bytes:
    """Encode a Python value as the bytes FDB stores (see the module docstring).

    Raises:
        TypeError: for a type FDB does not store (sets, objects, ...), also inside containers.
        ValueError: for NaN or an infinite float, also inside containers.
    """
    if isinstance(value, str):
        if _parse(value)[0]:
            return _ENCODER.encode(value).encode("utf-8")
        return value.encode("utf-8")
    if value is None:
        return b"null"
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int):
        return str(int(value)).encode("ascii")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"FDB stores JSON numbers only; {value!r} is not one")
        return _ENCODER.encode(value).encode("ascii")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (list, tuple, dict)):
        try:
            return _ENCODER.encode(value).encode("utf-8")
        except TypeError as e:
            raise TypeError(f"FDB stores JSON values only: {e}") from None
        except ValueError as e:
            raise ValueError(f"FDB stores JSON values only: {e}") from None
    raise TypeError(
        f"FDB stores str, int, float, bool, None, list, dict (and raw bytes); "
        f"got {type(value).__name__}"
    )


def decode(data: Union[bytes, bytearray, memoryview, str]) -> Any:
    """Decode stored bytes into a Python value (see the module docstring).

    Text that is not valid UTF-8 comes back as ``bytes``; text that is not exactly one JSON value
    comes back as the ``str`` itself.
    """
    if isinstance(data, str):
        text = data
    else:
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            return bytes(data)
    ok, value = _parse(text)
    return value if ok else text
