"""The post model: validation rejects and counts bad records, never raises, and loses nothing."""

# Test names say what each test checks; docstrings would repeat them.

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.postbatch import FIELDS, Post, Ragged, score_missing
from controller.posts import (
    Problems,
    _categorical,
    from_dicts,
    normalise_language,
    parse_lines,
    parse_time,
)

T = 1_700_000_000.0


def good(i: int = 0, **fields) -> dict:
    record = {
        "id": f"p{i}", "time": T + i, "network": "mastodon", "author": "Ann",
        "handle": "@ann@mastodon.social", "followers": 120, "text": "Network down again",
        "language": "en", "country": "FR", "brand": "acme", "hashtags": ["outage"],
        "urls": ["https://example.com"], "sentiment": -0.4, "in_reply_to": "", "own": False,
    }
    record.update(fields)
    return record


BAD_REQUIRED = [
    ("id", None), ("id", ""), ("id", 5.0), ("id", True), ("id", [1]), ("time", None),
    ("time", "yesterday"), ("time", True), ("time", -5.0), ("time", 1.7e15), ("time", [T]),
    ("time", 2**1100),
]
BAD_OPTIONAL = [
    ("network", 5), ("author", []),
    ("handle", {"a": 1}), ("followers", -1), ("followers", 1.5), ("followers", "10"),
    ("followers", True), ("followers", 2**70), ("text", 7), ("language", "english!"),
    ("language", 5), ("country", "FRA"), ("country", "F1"), ("country", 33), ("brand", ["x"]),
    ("hashtags", [1]), ("urls", ["ok", None]), ("sentiment", 1.5),
    ("sentiment", -1.01), ("sentiment", "0.5"), ("sentiment", True), ("in_reply_to", 1.5),
    ("in_reply_to", False),
    ("own", "yes"), ("own", 1),
]


def _both_entries(records: list[dict]):
    """(batch, rejected, problems) from `from_dicts`, then from `parse_lines`."""
    for entry, data in ((from_dicts, records),
                        # the standard library writes any int
                        (parse_lines, [json.dumps(r).encode() for r in records])):
        problems = Problems()
        yield (*entry(data, problems=problems), problems)


@pytest.mark.parametrize(("field", "value"), BAD_REQUIRED)
def test_a_bad_required_field_drops_only_its_record_with_a_reason(field, value):
    bad = good(1)
    if value is None:
        del bad[field]
    else:
        bad[field] = value
    for batch, rejected, problems in _both_entries([good(0), bad, good(2)]):
        assert (batch.id, rejected) == (["p0", "p2"], 1)
        [(reason, (count, named, _))] = problems.dropped.items()
        assert (count, named) == (1, field) and reason.startswith(f"{field}: ")
        assert problems.fixed == {}


@pytest.mark.parametrize(("field", "value"), BAD_OPTIONAL)
def test_a_bad_optional_field_is_cleared_and_the_post_kept(field, value):
    exact = good(1, sentiment=-0.5)                 # a float32 column keeps -0.5 exactly
    for batch, rejected, problems in _both_entries([good(0), {**exact, field: value},
                                                    good(2)]):
        assert (batch.id, rejected) == (["p0", "p1", "p2"], 0)
        kept = batch.posts()[1].to_dict()
        assert kept == {**exact, field: Post(id="p1", time=T + 1).to_dict()[field]}
        [(reason, (count, named, example))] = problems.fixed.items()
        assert (count, named, example) == (1, field, value) and reason.startswith(f"{field}: ")


@pytest.mark.parametrize(("tag", "expected"), [
    ("en_US", "en-US"), ("PT-br", "pt-BR"), ("zh-hant-tw", "zh-Hant-TW"), ("EN", "en"),
    ("es-419", "es-419"), ("de-CH-x-Phonebk", "de-CH-x-phonebk"), (" fr ", "fr"),
    ("english", None), ("e", None), ("en--US", None), ("en-US!", None),
])
def test_language_tags_are_normalised_to_bcp47(tag, expected):
    assert normalise_language(tag) == expected


def test_a_single_string_where_a_list_belongs_is_a_one_item_list():
    batch, rejected = from_dicts([good(0, hashtags="#Tag", urls="https://a.example")])
    assert rejected == 0
    assert (batch.hashtags[0], batch.urls[0]) == (["tag"], ["https://a.example"])


def test_every_record_of_a_shape_can_be_bad_at_once():
    batch, rejected = from_dicts([{"id": i, "time": "x"} for i in range(5)])
    assert (len(batch), rejected) == (0, 5)


def test_malformed_json_and_non_objects_count_blank_lines_do_not():
    lines = [orjson.dumps(good(0)), b"", b"  \n", b"{not json", b"[1, 2]", b"7",
             orjson.dumps(good(1)) + b"\n"]
    batch, rejected = parse_lines(lines)
    assert (batch.id, rejected) == (["p0", "p1"], 3)


def test_a_long_batch_keeps_order_and_counts_bad_lines_across_decoding_chunks():
    lines = [orjson.dumps(good(i)) for i in range(2500)]
    lines[1500] = b'{"id": "bad"}'
    lines[2499] = b"{not json"
    batch, rejected = parse_lines(lines)
    assert rejected == 2
    assert batch.id == [f"p{i}" for i in range(2499) if i != 1500]
    assert batch.time.tolist() == [T + i for i in range(2499) if i != 1500]


def test_absent_and_null_optional_fields_take_their_empty_values():
    batch, rejected = from_dicts([
        {"id": "a", "time": T},
        {"id": "b", "time": T, "language": None, "hashtags": None, "sentiment": None,
         "own": None, "followers": None, "text": None},
    ])
    assert rejected == 0
    for post in batch.posts():
        assert post == Post(id=post.id, time=T)


def test_records_of_different_shapes_keep_their_order_and_fields():
    records = [good(0), {"id": "b", "time": T}, good(2, extra="ignored"), {"time": T, "id": "d"}]
    del records[2]["urls"]
    batch, rejected = from_dicts(records)
    assert rejected == 0
    assert batch.id == ["p0", "b", "p2", "d"]
    assert [p.urls for p in batch.posts()] == [("https://example.com",), (), (), ()]
    assert batch.followers.tolist() == [120, 0, 120, 0]


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-05-01T12:00:00Z", 1714564800.0),
    ("2024-05-01T12:00:00z", 1714564800.0),
    ("2024-05-01T14:00:00+02:00", 1714564800.0),
    ("2024-05-01T12:00:00.250Z", 1714564800.25),
    ("2024-05-01 12:00:00", 1714564800.0),
    ("2024-05-01T12:00:00", 1714564800.0),
    (" 2024-05-01T12:00:00Z ", 1714564800.0),
    ("2024-05-01T12:00:00.123456789Z", 1714564800.123457),
    ("Wed, 01 May 2024 12:00:00 GMT", 1714564800.0),
    ("Wed, 01 May 2024 14:00:00 +0200", 1714564800.0),
    ("1714564800", 1714564800.0),
    ("1714564800250", 1714564800.25),
    (1714564800, 1714564800.0),
    (1714564800250, 1714564800.25),
])
def test_times_parse_to_unix_seconds_naive_as_utc_large_numbers_as_milliseconds(text, expected):
    assert parse_time(text) == pytest.approx(expected, abs=1e-6)
    record = {"id": "a", "time": text}
    for batch, rejected in (from_dicts([record]), parse_lines([orjson.dumps(record)])):
        assert rejected == 0 and batch.time.tolist() == pytest.approx([expected], abs=1e-6)


@pytest.mark.parametrize("text", ["2024-13-01T00:00:00Z", "", " ", "noon", True, None, [1]])
def test_malformed_times_raise_and_are_rejected(text):
    with pytest.raises(ValueError):
        parse_time(text)
    assert from_dicts([{"id": "a", "time": text}])[1] == 1


def test_integer_ids_are_kept_as_their_decimal_strings():
    record = {"id": 2**70, "time": T, "in_reply_to": 12}
    for batch, rejected in (from_dicts([record]), parse_lines([orjson.dumps({**record, "id": 7})])):
        assert rejected == 0 and batch.in_reply_to == ["12"]
    assert from_dicts([record])[0].id == [str(2**70)]


def test_times_far_in_the_future_are_rejected_one_day_ahead_is_not():
    import time

    now = time.time()
    batch, rejected = from_dicts([{"id": "a", "time": now + 3600}, {"id": "b", "time": now + 3e5}])
    assert (batch.id, rejected) == (["a"], 1)


def test_hashtags_are_lower_cased_without_hash_and_empty_tags_dropped():
    batch, _ = from_dicts([good(0, hashtags=["#Acme", "FAIL", "#", ""]), good(1, hashtags=[]),
                           good(2, hashtags=["ok"])])
    assert [list(p.hashtags) for p in batch.posts()] == [["acme", "fail"], [], ["ok"]]


def test_country_is_upper_cased_and_language_kept():
    batch, rejected = from_dicts([good(0, country="br", language="pt-BR"), good(1, country="")])
    assert rejected == 0
    assert batch.country.values() == ["BR", ""]
    assert batch.language.values() == ["pt-BR", "en"]


def test_columns_have_the_documented_types():
    batch, _ = from_dicts([good(0, sentiment=None), good(1, own=True)])
    assert batch.time.dtype == np.float64 and batch.followers.dtype == np.int64
    assert batch.sentiment.dtype == np.float32 and np.isnan(batch.sentiment[0])
    assert batch.own.dtype == bool and batch.own.tolist() == [False, True]
    assert batch.brand.vocab[batch.brand.codes[0]] == "acme"
    assert isinstance(batch.hashtags, Ragged) and batch.hashtags[1] == ["outage"]


def test_ragged_take_selects_rows_in_order():
    column = Ragged.from_lists([["a"], [], ["b", "c"], ["d"]])
    picked = column.take(np.array([2, 0, 1]))
    assert [picked[i] for i in range(len(picked))] == [["b", "c"], ["a"], []]


def test_score_missing_fills_only_unknown_sentiment_with_vader():
    batch, _ = from_dicts([
        good(0, sentiment=None, text="I love this, it is great!"),
        good(1, sentiment=None, text="Worst service ever, totally broken and useless."),
        good(2, sentiment=0.25),
        good(3, sentiment=None, text=""),
    ])
    assert score_missing(batch) == 3
    scores = batch.sentiment.tolist()
    assert scores[0] >= 0.05 and scores[1] <= -0.05
    assert scores[2] == pytest.approx(0.25) and scores[3] == 0.0
    assert score_missing(batch) == 0


def test_posts_returns_the_last_ones_as_schema_records():
    records = [good(i, sentiment=None if i == 2 else 0.5) for i in range(3)]
    batch, _ = from_dicts(records)
    last = batch.posts(last=2)
    assert [p.id for p in last] == ["p1", "p2"]
    assert last[1].to_dict() == records[2]
    assert batch.posts(last=0) == []


def test_an_empty_batch_is_valid():
    batch, rejected = parse_lines([])
    assert (len(batch), rejected) == (0, 0)
    assert batch.posts() == []


text = st.text(max_size=12)
record = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=8), "time": st.floats(1e9, 1.7e9)},
    optional={
        "network": st.sampled_from(["x", "mastodon", ""]), "author": text, "handle": text,
        "followers": st.integers(0, 2**40), "text": text,
        "language": st.sampled_from(["en", "pt-BR", "zh-Hant-TW", ""]),
        "country": st.sampled_from(["FR", "US", ""]), "brand": st.sampled_from(["acme", "", "b"]),
        "hashtags": st.lists(st.text("abc_", min_size=1, max_size=5), max_size=3),
        "urls": st.lists(text, max_size=2),
        "sentiment": st.none() | st.floats(-1, 1, width=32),
        "in_reply_to": text, "own": st.booleans(),
    },
)


@settings(max_examples=60, deadline=None)
@given(st.lists(record, max_size=20))
def test_valid_records_survive_the_columns_unchanged(records):
    lines = [orjson.dumps(r) for r in records]
    batch, rejected = parse_lines(lines)
    assert rejected == 0
    out = [p.to_dict() for p in batch.posts()]
    expected = [{**Post(id=r["id"], time=r["time"]).to_dict(), **r} for r in records]
    assert out == expected
    assert all(set(post) == set(FIELDS) for post in out)


def _normalise_or_reject(value: str) -> str | None:
    return None if "!" in value else value.upper()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.none() | st.sampled_from(["", "a", "A", "b", "c!", "dd", "x!"]), max_size=40),
       st.sampled_from(["", "filled"]))
def test_categorical_codes_match_checking_every_row_on_its_own(column, empty):
    bad = np.zeros(len(column), dtype=bool)
    coded = _categorical(column, bad, _normalise_or_reject, empty)
    expected = [(raw or empty) if not raw else _normalise_or_reject(raw) for raw in column]
    assert bad.tolist() == [value is None for value in expected]
    assert [coded.vocab[c] for c in coded.codes.tolist()] == [
        "" if value is None else value for value in expected]
    assert coded.vocab[0] == "" and len(set(coded.vocab)) == len(coded.vocab)


def test_the_pure_controller_modules_load_no_gpu_window_or_socket_library():
    code = ("import sys, controller.posts, controller.aggregate, controller.frames; "
            "print(sorted(m for m in ('moderngl', 'pyglet', 'zmq') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
