"""The value encoding, without a server."""

import math

import pytest

from fdb import codec
from fdb.codec import decode, encode, looks_like_json


@pytest.fixture(autouse=True, params=["orjson", "json"])
def backend(request, monkeypatch):
    """Every test of this module runs with orjson (when installed) and with the stdlib json
    alone (orjson hidden), which must give the same results."""
    if request.param == "orjson":
        if codec._orjson is None:
            pytest.skip("orjson is not installed")
    else:
        monkeypatch.setattr(codec, "_orjson", None)
    assert codec.backend() == request.param
    return request.param

# (value, stored bytes): the documented encoding.
ENCODED = [
    ("hello", b"hello"),
    ("hello world", b"hello world"),
    ("", b""),
    ("héllo ✓", "héllo ✓".encode()),
    ("42", b'"42"'),
    ("-1.5", b'"-1.5"'),
    ("true", b'"true"'),
    ("null", b'"null"'),
    ('"quoted"', b'"\\"quoted\\""'),
    ("[1,2]", b'"[1,2]"'),
    ('{"a":1}', b'"{\\"a\\":1}"'),
    (" 42", b" 42"),  # whitespace around: not JSON by the rule, stored raw
    ("42 ", b"42 "),
    ("007", b"007"),
    ("1.5x", b"1.5x"),
    ("NaN", b"NaN"),
    ("Infinity", b"Infinity"),
    ("True", b"True"),
    ("{not json", b"{not json"),
    (42, b"42"),
    (-7, b"-7"),
    (0, b"0"),
    (2**70, str(2**70).encode()),
    (999.99, b"999.99"),
    (1.0, b"1.0"),
    (-0.5, b"-0.5"),
    (1e16, b"1e+16"),
    (True, b"true"),
    (False, b"false"),
    (None, b"null"),
    ([], b"[]"),
    ([1, "a", 2.5, None, True], b'[1,"a",2.5,null,true]'),
    ({}, b"{}"),
    ({"name": "Alice", "age": 30}, b'{"name":"Alice","age":30}'),
    ({"k": {"nested": [1, {"x": "é"}]}}, '{"k":{"nested":[1,{"x":"é"}]}}'.encode()),
]


@pytest.mark.parametrize("value,stored", ENCODED, ids=[repr(v)[:30] for v, _ in ENCODED])
def test_encoding_and_round_trip(value, stored):
    assert encode(value) == stored
    back = decode(stored)
    assert back == value and type(back) is type(value)


def test_bool_is_not_int():
    assert decode(encode(True)) is True
    assert decode(encode(1)) == 1 and type(decode(encode(1))) is int


def test_tuple_reads_back_as_list():
    assert decode(encode((1, "a"))) == [1, "a"]


def test_int_subclass_is_stored_as_plain_int():
    import enum

    class Color(enum.IntEnum):
        RED = 3

    assert encode(Color.RED) == b"3"


@pytest.mark.parametrize(
    "raw,expected",
    [
        (b"plain text", "plain text"),  # what redis-cli SET writes, read back
        (b"123", 123),  # a number written by redis-cli reads back as a number
        (b"12.5", 12.5),
        (b"1e3", 1000.0),
        (b"-0", 0),
        (b'{"a": 1}', {"a": 1}),  # JSON written by another client is parsed
        (b'"s"', "s"),
        (b"true", True),
        (b" true", " true"),
        (b"tru", "tru"),
        (b"nul", "nul"),
        (b"[1, 2", "[1, 2"),
        (b"\xff\xfe\x00binary", b"\xff\xfe\x00binary"),  # not UTF-8: bytes
    ],
)
def test_decode_values_written_by_other_clients(raw, expected):
    got = decode(raw)
    assert got == expected and type(got) is type(expected)


def test_binary_bytes_are_stored_verbatim():
    assert encode(b"\x00\xffraw") == b"\x00\xffraw"
    assert decode(b"\x00\xffraw") == b"\x00\xffraw"


@pytest.mark.parametrize("value", [b"42", b"hello", b"", b"null", b'{"a":1}', bytearray(b"42"),
                                   memoryview(b"1.5"), b"\xff\x00", b"\xff\x00\xfe",
                                   b"\xff\xfe", "é".encode()])
def test_bytes_stay_bytes(value):
    back = decode(encode(value))
    assert back == bytes(value) and type(back) is bytes


def test_text_bytes_carry_the_marker():
    assert encode(b"42") == codec.BYTES_MARKER + b"42"
    assert encode(b"\xff\x00\xfe") == codec.BYTES_MARKER + b"\xff\x00\xfe"


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, [1, math.nan], {"x": math.inf}])
def test_non_finite_floats_are_refused(bad):
    with pytest.raises(ValueError):
        encode(bad)


@pytest.mark.parametrize("bad", [{1, 2}, object(), [object()], {"k": {1}}, 1j])
def test_unsupported_types_are_refused(bad):
    with pytest.raises(TypeError):
        encode(bad)


def test_every_string_round_trips():
    samples = ["0", "-", "-0", "1e", "e1", ".5", "5.", "[", "]", "{}", "[]", '""', "\\", "\n",
               "a\nb", "x" * 10000, "1" * 5000, "tRue", "nullx", "falsey", '"unterminated',
               "[" * 5000 + "]" * 5000]
    for s in samples:
        back = decode(encode(s))
        assert back == s and type(back) is str, s[:20]
        assert looks_like_json(s) == (encode(s) != s.encode())
