"""Wire protocol: messages round-trip, and anything malformed raises ProtocolError only."""

# Test names say what each test checks; docstrings would repeat them.

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallrenderer.core.protocol import MAX_MESSAGE_BYTES, VERSION, Message, ProtocolError

pytestmark = pytest.mark.unit

# Every kind the Message docstring (the wire spec) lists.
KINDS = (
    "state",
    "hb",
    "snapshot",
    "pong",
    "capture",
    "hello",
    "ping",
    "report",
    "captured",
    "status",
    "reply",
)

UNICODE_BODY = {
    "text": "Grüße, 世界 🌍 — ñandú «ok»",
    "emoji": ["🎉", "👩‍💻", "🇫🇷"],
    "nested": {"ключ": "значение", "عربى": 1.5, "zero": 0, "none": None, "flag": True},
}


def header(**fields) -> bytes:
    base = {"v": VERSION, "k": "hb", "s": 0, "e": 0, "t": 0.0}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...}).encode()


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_round_trips_with_unicode_body(kind):
    msg = Message(kind=kind, body=UNICODE_BODY, seq=42, epoch=7, time=1_700_000_000.125)
    frames = msg.encode()
    assert len(frames) == 2 and all(isinstance(f, bytes) for f in frames)
    assert Message.decode(frames) == msg


def test_encoded_frames_are_utf8_json_as_the_wire_spec_says():
    header_frame, body_frame = Message("state", {"t": "é"}, seq=3, epoch=2, time=1.5).encode()
    assert json.loads(header_frame.decode("utf-8")) == {
        "v": VERSION,
        "k": "state",
        "s": 3,
        "e": 2,
        "t": 1.5,
    }
    assert body_frame.decode("utf-8") == '{"t":"é"}'


@settings(max_examples=100, deadline=None)
@given(
    kind=st.sampled_from(KINDS) | st.text(),
    body=st.dictionaries(st.text(), json_values, max_size=5),
    seq=st.integers(0, 2**63),
    epoch=st.integers(0, 2**63),
    time=st.floats(allow_nan=False, allow_infinity=False) | st.integers(0, 2**40),
)
def test_any_json_message_round_trips(kind, body, seq, epoch, time):
    msg = Message(kind=kind, body=body, seq=seq, epoch=epoch, time=time)
    assert Message.decode(msg.encode()) == msg


def test_decode_accepts_integer_time():
    msg = Message.decode([header(t=12), b"{}"])
    assert msg.time == 12


@pytest.mark.parametrize(
    "frames",
    [
        [],
        [header()],
        [b"all", header(), b"{}"],
        [header(), b"{}", b"{}"],
    ],
    ids=["none", "one", "three-with-topic", "three"],
)
def test_decode_rejects_wrong_frame_count(frames):
    with pytest.raises(ProtocolError, match="frames"):
        Message.decode(frames)


@pytest.mark.parametrize(
    "head",
    [
        b"not json",
        b"",
        b'{"v": 1, "k": "hb"',
        b'[1, "hb", 0, 0, 0]',
        b'"hb"',
        b"1",
        b"null",
    ],
    ids=["text", "empty", "truncated", "array", "string", "number", "null"],
)
def test_decode_rejects_header_that_is_not_a_json_object(head):
    with pytest.raises(ProtocolError, match="header"):
        Message.decode([head, b"{}"])


@pytest.mark.parametrize(
    "version",
    [2, 0, "1", None, ..., True],
    ids=["2", "0", "str", "null", "missing", "bool"],
)
def test_decode_rejects_other_protocol_versions(version):
    with pytest.raises(ProtocolError, match="version"):
        Message.decode([header(v=version), b"{}"])


@pytest.mark.parametrize(
    "fields",
    [
        {"k": ...},
        {"k": None},
        {"k": 3},
        {"s": True},
        {"s": False},
        {"s": "1"},
        {"s": 1.0},
        {"s": ...},
        {"e": True},
        {"e": None},
        {"e": ...},
        {"t": "12:00"},
        {"t": "1.5"},
        {"t": True},
        {"t": None},
        {"t": ...},
        {"t": [1.0]},
    ],
    ids=lambda f: "-".join(f"{k}={v!r}" for k, v in f.items()),
)
def test_decode_rejects_missing_or_mistyped_header_fields(fields):
    with pytest.raises(ProtocolError):
        Message.decode([header(**fields), b"{}"])


@pytest.mark.parametrize(
    "body",
    [b"", b"nope", b"[]", b'"text"', b"null", b'{"a": 1'],
    ids=["empty", "text", "array", "string", "null", "truncated"],
)
def test_decode_rejects_body_that_is_not_a_json_object(body):
    with pytest.raises(ProtocolError, match="body"):
        Message.decode([header(), body])


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_decode_rejects_non_finite_time(constant):
    head = b'{"v":1,"k":"hb","s":0,"e":0,"t":' + constant + b"}"
    with pytest.raises(ProtocolError):
        Message.decode([head, b"{}"])


def test_decode_rejects_oversized_body():
    filler = "x" * MAX_MESSAGE_BYTES
    body = json.dumps({"pad": filler}).encode()
    assert len(body) > MAX_MESSAGE_BYTES
    with pytest.raises(ProtocolError, match="too large"):
        Message.decode([header(), body])


def test_decode_rejects_message_over_limit_counting_both_frames():
    head = header()
    pad = MAX_MESSAGE_BYTES - len(head) - len(b'{"p":""}') + 1
    body = b'{"p":"' + b"x" * pad + b'"}'
    assert len(head) + len(body) == MAX_MESSAGE_BYTES + 1
    with pytest.raises(ProtocolError, match="too large"):
        Message.decode([head, body])
    # one byte less is accepted
    assert Message.decode([head, body[:7] + body[8:]]).body["p"] == "x" * (pad - 1)


@pytest.mark.parametrize(
    "frames",
    [
        [header(), b'{"text": "\xff\xfe"}'],
        [header(), b'{"text": "caf\xe9"}'],
        [header(), b'{"text": "\xc3"}'],
        [b'{"v": 1, "k": "h\xffb", "s": 0, "e": 0, "t": 0}', b"{}"],
    ],
    ids=["body-ff-fe", "body-latin1", "body-truncated-sequence", "header"],
)
def test_decode_rejects_invalid_utf8(frames):
    with pytest.raises(ProtocolError, match="not UTF-8 JSON"):
        Message.decode(frames)


@pytest.mark.parametrize(
    "body",
    [
        '{"a": 1}'.encode("utf-16"),
        '{"a": 1}'.encode("utf-32-le"),
        b'{"a": "\xed\xa0\x80"}',
    ],
    ids=["utf-16-with-bom", "utf-32-le", "utf8-encoded-lone-surrogate"],
)
def test_decode_rejects_frames_that_are_not_strict_utf8(body):
    with pytest.raises(ProtocolError):
        Message.decode([header(), body])


def test_decode_rejects_deeply_nested_body_with_protocol_error():
    with pytest.raises(ProtocolError):
        Message.decode([header(), b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=4))
def test_arbitrary_bytes_frames_decode_or_raise_protocol_error_only(frames):
    try:
        msg = Message.decode(frames)
    except ProtocolError:
        return
    assert isinstance(msg, Message)


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "v": st.just(VERSION) | json_scalars,
            "k": st.sampled_from(KINDS) | json_scalars,
            "s": json_scalars,
            "e": json_scalars,
            "t": json_scalars,
        },
    ),
    json_values,
)
def test_arbitrary_json_headers_and_bodies_decode_or_raise_protocol_error_only(head, body):
    frames = [json.dumps(head).encode(), json.dumps(body).encode()]
    try:
        msg = Message.decode(frames)
    except ProtocolError:
        return
    assert isinstance(msg.kind, str) and isinstance(msg.body, dict)
    assert type(msg.seq) is int and type(msg.epoch) is int
    assert isinstance(msg.time, (int, float)) and not isinstance(msg.time, bool)


def test_encode_refuses_a_message_its_receivers_would_drop():
    with pytest.raises(ProtocolError, match="exceeds"):
        Message("state", {"pad": "x" * MAX_MESSAGE_BYTES}).encode()


def test_a_number_too_large_for_a_float_is_malformed():
    """Python reads 1e400 as infinity; no tick or time can be that."""
    header = Message("commit", {}, seq=1, epoch=1, time=1.0).encode()[0]
    with pytest.raises(ProtocolError, match="out of range"):
        Message.decode([header, b'{"id": 1, "tick": 1e400}'])
    assert Message.decode([header, b'{"tick": 1.5e3}']).body == {"tick": 1500.0}
