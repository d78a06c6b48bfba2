"""Aggregation checked against brute force: each figure recomputed in plain Python."""

# Test names say what each test checks; docstrings would repeat them.

from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controller.aggregate.aggregator import Aggregator
from controller.aggregate.alerts import AlertConfig
from controller.aggregate.mentions import NET_SENTIMENT_FORMULA
from controller.aggregate.topics import clean_term
from controller.posts import from_dicts

BRANDS = ["acme", "globex", "initech"]
AUTHORS = [  # network, handle, name, followers
    ("x", "@ann", "Ann", 1000), ("x", "@bob", "Bob", 20), ("mastodon", "@ann", "Ann M", 5),
    ("x", "", "Nameless", 9), ("rss", "@news", "News", 50_000),
]
WORDS = ["network", "down", "the", "love", "#tag", "@acme", "https://x.y/z", "great!", "5g", "42"]
SENTIMENTS = [None, -1.0, -0.5, -0.05, -0.0499, 0.0, 0.0499, 0.05, 0.3, 1.0]
VIDEO = "https://acme.example/launch-video"
CLIP = "https://v.example/watch?v=1"  # a tracked URL with a query of its own
TRACKED = ["#B", VIDEO, CLIP]  # the stream's hashtags are "a" to "d", in lower case
URLS = [VIDEO, VIDEO + "/", VIDEO + "?utm_source=social", VIDEO + "/?s=1", VIDEO + "-2",
        "https://acme.example/launch", CLIP, CLIP + "&t=30", CLIP + "2", "https://x.y/z"]


@st.composite
def streams(draw):
    now = 1_700_000_000.0 + draw(st.floats(0, 86_400))
    posts = []
    for i in range(draw(st.integers(0, 50))):
        age = draw(st.floats(0, 90) | st.floats(0, 4000) | st.floats(0, 95_000))
        network, handle, name, followers = AUTHORS[draw(st.integers(0, len(AUTHORS) - 1))]
        own = i > 0 and draw(st.integers(0, 4)) == 0
        posts.append({
            "id": f"p{i}", "time": now - age, "network": network, "author": name,
            "handle": handle, "followers": followers,
            "text": " ".join(draw(st.lists(st.sampled_from(WORDS), max_size=5))),
            "country": draw(st.sampled_from(["", "FR", "US", "BR"])),
            "brand": draw(st.sampled_from([*BRANDS, "", "other"])),
            "hashtags": draw(st.lists(st.sampled_from("abcd"), max_size=3)),
            "urls": draw(st.lists(st.sampled_from(URLS), max_size=2)),
            "sentiment": draw(st.sampled_from(SENTIMENTS)),
            "in_reply_to": posts[draw(st.integers(0, i - 1))]["id"] if own else "",
            "own": own,
        })
    cuts = sorted(draw(st.lists(st.integers(0, len(posts)), max_size=4)))
    return now, posts, cuts


def ingest(agg: Aggregator, posts: list[dict], cuts: list[int]) -> None:
    for start, end in zip([0, *cuts], [*cuts, len(posts)], strict=True):
        batch, rejected = from_dicts(posts[start:end])
        assert rejected == 0
        agg.ingest(batch)


def category(score: float | None) -> str:
    if score is None:
        return "unknown"
    s = np.float32(score)
    if s >= np.float32(0.05):
        return "positive"
    return "negative" if s <= np.float32(-0.05) else "neutral"


def top(counter: Counter, k: int) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:k]


def carries(post: dict, term: str) -> bool:
    """The tracked-term rule, restated as a pattern, not as the aggregator checks it.

    A hashtag in any case, or the URL as written (a trailing "/" aside) or
    followed by a query ("&..." when it has one itself).
    """
    if term.startswith("#"):
        return term[1:].lower() in post["hashtags"]
    base = term.removesuffix("/")
    tail = r"(/|&.*)?" if "?" in base else r"/?(\?.*)?"
    return any(re.fullmatch(re.escape(base) + tail, url) for url in post["urls"])


def campaign_reference(posts: list[dict], now: float, tracked: list[str]) -> dict:
    """The `campaign` field by brute force."""
    minute = math.floor(now) // 60

    def in_minutes(p, span):
        return minute - span < math.floor(p["time"]) // 60 <= minute

    public = [p for p in posts if not p["own"]]
    carrying = {t: [p for p in public if carries(p, t)] for t in tracked}
    any_term = [p for p in public if any(carries(p, t) for t in tracked)]
    hour = [p for p in any_term if in_minutes(p, 60)]
    day = [p for p in any_term if in_minutes(p, 1440)]
    kinds = Counter(category(p["sentiment"]) for p in hour)
    polar = kinds["positive"] + kinds["negative"]
    return {
        "terms": tracked,
        "window_s": 3600,
        "posts": {"1h": len(hour), "24h": len(day)},
        "reach": {"1h": sum(p["followers"] for p in hour),
                  "24h": sum(p["followers"] for p in day)},
        "by_term": {t: {"1h": sum(in_minutes(p, 60) for p in ps),
                        "24h": sum(in_minutes(p, 1440) for p in ps),
                        "reach_1h": sum(p["followers"] for p in ps if in_minutes(p, 60))}
                    for t, ps in carrying.items()},
        "series": {"start": float((minute - 59) * 60), "step_s": 60,
                   "by_term": {t: [sum(math.floor(p["time"]) // 60 == m for p in ps)
                                   for m in range(minute - 59, minute + 1)]
                               for t, ps in carrying.items()}},
        "sentiment": {"net": (kinds["positive"] - kinds["negative"]) / polar * 100 if polar
                      else None, "positive": kinds["positive"], "negative": kinds["negative"]},
    }


def reference(posts: list[dict], now: float) -> dict:
    """Every checked figure, by brute force over the list of posts."""
    second = math.floor(now)
    minute = second // 60

    def in_seconds(p, span):
        return second - span < math.floor(p["time"]) <= second

    def in_minutes(p, span):
        return minute - span < math.floor(p["time"]) // 60 <= minute

    public = [p for p in posts if not p["own"]]
    mentions = [p for p in public if p["brand"] in BRANDS]
    windows = {"1m": lambda p: in_seconds(p, 60), "15m": lambda p: in_seconds(p, 900),
               "1h": lambda p: in_seconds(p, 3600), "24h": lambda p: in_minutes(p, 1440)}
    volume = {b: {w: sum(1 for p in mentions if p["brand"] == b and inside(p))
                  for w, inside in windows.items()} for b in BRANDS}
    before = {"1m": lambda p: second - 120 < math.floor(p["time"]) <= second - 60,
              "15m": lambda p: second - 1800 < math.floor(p["time"]) <= second - 900,
              "1h": lambda p: minute - 120 < math.floor(p["time"]) // 60 <= minute - 60}
    previous = {b: {w: sum(1 for p in mentions if p["brand"] == b and inside(p))
                    for w, inside in before.items()} for b in BRANDS}
    hour = [p for p in mentions if in_seconds(p, 3600)]
    sentiment = {}
    for b in BRANDS:
        kinds = Counter(category(p["sentiment"]) for p in hour if p["brand"] == b)
        polar = kinds["positive"] + kinds["negative"]
        sentiment[b] = {
            "net": (kinds["positive"] - kinds["negative"]) / polar * 100 if polar else None,
            **{k: kinds[k] for k in ("positive", "negative", "neutral", "unknown")},
            "coverage": (1 - kinds["unknown"] / sum(kinds.values())) if kinds else None,
        }
    last_hour = [p for p in public if in_minutes(p, 60)]
    tags = Counter(t for p in last_hour for t in p["hashtags"])
    tags_by_brand = {b: Counter(t for p in last_hour if p["brand"] == b for t in p["hashtags"])
                     for b in BRANDS}
    urls = Counter(u for p in last_hour for u in p["urls"])
    countries = {span: Counter(p["country"] for p in public if p["country"] and in_minutes(p, n))
                 for span, n in (("1h", 60), ("24h", 1440))}
    authors: dict[tuple[str, str], list] = {}
    for p in public:
        if p["handle"] and minute // 60 - 24 < math.floor(p["time"]) // 3600 <= minute // 60:
            entry = authors.setdefault((p["network"], p["handle"]), [0, 0, p["author"],
                                                                     p["followers"]])
            entry[0] += p["followers"]
            entry[1] += 1
    response = {}
    for b in BRANDS:
        asked = [p for p in mentions if p["brand"] == b and in_minutes(p, 1440)]
        delays = []
        for c in asked:
            replies = [r for r in posts[posts.index(c) + 1:] if r["own"] and r["brand"] == b
                       and r["in_reply_to"] == c["id"]]
            if replies:
                delays.append(max(0.0, replies[0]["time"] - c["time"]))
        response[b] = (len(asked), delays)
    series = {b: [sum(1 for p in mentions if p["brand"] == b
                      and math.floor(p["time"]) // 60 == m) for m in range(minute - 59, minute + 1)]
              for b in BRANDS}
    return {"volume": volume, "previous": previous, "sentiment": sentiment, "tags": tags,
            "tags_by_brand": tags_by_brand, "countries": countries, "authors": authors,
            "response": response, "series": series, "urls": urls,
            "campaign": campaign_reference(posts, now, TRACKED)}


@settings(max_examples=40, deadline=None)
@given(streams())
def test_frame_matches_brute_force_over_random_streams(stream):
    now, posts, cuts = stream
    agg = Aggregator(BRANDS, "acme", tracked=TRACKED)
    ingest(agg, posts, cuts)
    frame = agg.frame(now)
    ref = reference(posts, now)

    assert frame["volume"]["by_brand"] == ref["volume"]
    assert frame["volume"]["total"] == {w: sum(v[w] for v in ref["volume"].values())
                                        for w in ("1m", "15m", "1h", "24h")}
    assert frame["volume"]["previous_by_brand"] == ref["previous"]
    assert frame["volume"]["previous_total"] == {
        w: sum(v[w] for v in ref["previous"].values()) for w in ("1m", "15m", "1h")}
    assert frame["series"]["by_brand"] == ref["series"]
    assert frame["series"]["start"] == (math.floor(now) // 60 - 59) * 60

    hour = {b: ref["volume"][b]["1h"] for b in BRANDS}
    total = sum(hour.values())
    sov = frame["share_of_voice"]
    assert sov["total"] == total
    if total:
        assert sov["by_brand"] == pytest.approx({b: hour[b] / total for b in BRANDS})
        assert sum(sov["by_brand"].values()) == pytest.approx(1.0)

    for b in BRANDS:
        assert frame["sentiment"]["by_brand"][b] == pytest.approx(ref["sentiment"][b])
    scored = sum(v["positive"] + v["negative"] + v["neutral"] for v in ref["sentiment"].values())
    assert frame["sentiment"]["coverage"] == (pytest.approx(scored / total) if total
                                              else None)
    assert frame["sentiment"]["formula"] == NET_SENTIMENT_FORMULA

    assert [(e["tag"], e["count"]) for e in frame["hashtags"]["top"]] == top(ref["tags"], 20)
    for b in BRANDS:
        assert ([(e["tag"], e["count"]) for e in frame["hashtags"]["by_brand"][b]]
                == top(ref["tags_by_brand"][b], 10))

    assert [(e["url"], e["count"]) for e in frame["urls"]["top"]] == top(ref["urls"], 10)
    assert frame["campaign"] == ref["campaign"]

    for span in ("1h", "24h"):
        assert frame["countries"][span] == dict(ref["countries"][span])
        assert list(frame["countries"][span]) == [c for c, _ in top(ref["countries"][span], 999)]

    expected_authors = sorted(ref["authors"].items(), key=lambda kv: (-kv[1][0], kv[0]))[:10]
    assert [(a["network"], a["handle"], a["reach"], a["posts"], a["name"], a["followers"])
            for a in frame["authors"]["top"]] == [(*k, *v) for k, v in expected_authors]

    for b in BRANDS:
        asked, delays = ref["response"][b]
        got = frame["response"]["by_brand"][b]
        assert (got["customer_posts"], got["answered"]) == (asked, len(delays))
        assert got["rate"] == (pytest.approx(len(delays) / asked) if asked else None)
        if delays:
            median, p90 = np.percentile(delays, [50, 90])
            assert got["first_response_s"] == pytest.approx(
                {"mean": float(np.mean(delays)), "median": median, "p90": p90})
        else:
            assert got["first_response_s"] is None

    assert frame["totals"]["ingested"] == len(posts)
    assert json.loads(json.dumps(frame)) == frame
    assert set(frame) == set(Aggregator.frame_fields())
    state = json.loads(json.dumps(agg.to_state()))
    assert Aggregator.from_state(state).frame(now) == frame
    # Another list: "#b" is "#B" respelled, "#d" is new, the video is no longer tracked.
    changed = Aggregator.from_state(state, tracked=[CLIP, "#d", "#b"]).frame(now)["campaign"]
    kept = campaign_reference(posts, now, [CLIP, "#b"])
    assert changed == {**kept, "terms": [CLIP, "#d", "#b"],
                       "by_term": {**kept["by_term"], "#d": {"1h": 0, "24h": 0, "reach_1h": 0}},
                       "series": {**kept["series"],
                                  "by_term": {**kept["series"]["by_term"], "#d": [0] * 60}}}


def test_posts_after_now_and_own_posts_are_not_mentions():
    agg = Aggregator(BRANDS, "acme")
    batch, _ = from_dicts([
        {"id": "a", "time": 1_700_000_100.0, "brand": "acme"},
        {"id": "b", "time": 1_700_000_000.0, "brand": "acme", "own": True},
        {"id": "c", "time": 1_700_000_000.0, "brand": "acme"},
    ])
    agg.ingest(batch, rejected=2)
    frame = agg.frame(1_700_000_010.0)
    assert frame["volume"]["by_brand"]["acme"] == {"1m": 1, "15m": 1, "1h": 1, "24h": 1}
    assert frame["totals"] == {"ingested": 3, "rejected": 2, "too_old": 0}


def test_terms_leave_out_urls_handles_hashtags_stop_words_and_numbers():
    assert [clean_term(t) for t in ["https://a.b/c", "WWW.x.org", "@acme", "#tag", "The",
                                    "42", "outage!!", "5g", "a/b", "«panne»"]] == [
        "", "", "", "", "", "", "outage", "5g", "", "panne"]
    agg = Aggregator(BRANDS, "acme")
    texts = ["Outage again @acme https://t.co/x #fail", "the OUTAGE, still", "Network outage?"]
    agg.ingest(from_dicts([{"id": str(i), "time": 1_700_000_000.0, "text": t, "brand": "acme"}
                           for i, t in enumerate(texts)])[0])
    terms = agg.frame(1_700_000_000.0)["terms"]
    assert terms["top"][:3] == [{"term": "outage", "count": 3}, {"term": "again", "count": 1},
                                {"term": "network", "count": 1}]
    assert terms["by_brand"]["acme"][0] == {"term": "outage", "count": 3}



def test_terms_count_the_text_of_the_first_term_posts_per_minute_and_brand():
    agg = Aggregator(BRANDS, "acme", term_posts=2)
    t = 1_700_000_040.0  # a minute starts here

    def post(i: int, text: str, at: float, brand: str = "acme") -> dict:
        return {"id": f"p{i}", "time": at, "text": text, "brand": brand, "hashtags": ["h"]}

    agg.ingest(from_dicts([post(0, "first", t + 5), post(1, "second", t + 1),
                           post(2, "third", t + 2), post(3, "other", t + 3, "globex")])[0])
    agg.ingest(from_dicts([post(4, "fourth", t + 4), post(5, "next", t + 60)])[0])
    restored = Aggregator.from_state(json.loads(json.dumps(agg.to_state())))
    for a in (agg, restored):
        a.ingest(from_dicts([post(6, "late", t + 6), post(7, "evening", t + 61)])[0])
        frame = a.frame(t + 90)
        assert {e["term"] for e in frame["terms"]["by_brand"]["acme"]} == {
            "first", "second", "next", "evening"}  # arrival order, not time order
        assert frame["terms"]["by_brand"]["globex"] == [{"term": "other", "count": 1}]
        assert frame["hashtags"]["by_brand"]["acme"] == [{"tag": "h", "count": 7}]

def test_campaign_matches_hashtags_in_any_case_and_urls_behind_tracking_params():
    t = 1_700_000_040.0  # a minute starts here
    agg = Aggregator(BRANDS, "acme", tracked=["#AcmeLaunch", VIDEO + "/", CLIP])

    def post(i, at, followers, sentiment=None, tags=(), urls=(), **extra):
        return {"id": f"p{i}", "time": at, "followers": followers, "sentiment": sentiment,
                "hashtags": list(tags), "urls": list(urls), **extra}

    agg.ingest(from_dicts([
        post(1, t + 1, 100, 0.6, tags=["ACMELAUNCH"]),  # about no brand: counts all the same
        post(2, t + 2, 10, -0.5, urls=[VIDEO + "?utm_source=social"], brand="globex"),
        post(3, t - 30, 1, 0.3, tags=["acmelaunch"], urls=[VIDEO, VIDEO + "/?s=1"]),  # once
        post(4, t + 3, 5, 0.9, urls=[CLIP + "&t=30"]),
        post(5, t + 4, 7, 0.9, urls=[VIDEO + "-2", "https://acme.example/launch", CLIP + "2"]),
        post(6, t + 5, 8, 0.9, tags=["acmelaunch"], urls=[VIDEO], brand="acme", own=True),
        post(7, t - 7200, 1000, -0.9, tags=["acmelaunch"]),  # in the day, not the hour
    ])[0])
    campaign = agg.frame(t + 30)["campaign"]
    assert campaign["terms"] == ["#AcmeLaunch", VIDEO + "/", CLIP]
    assert (campaign["posts"], campaign["reach"]) == ({"1h": 4, "24h": 5},
                                                      {"1h": 116, "24h": 1116})
    assert campaign["by_term"] == {"#AcmeLaunch": {"1h": 2, "24h": 3, "reach_1h": 101},
                                   VIDEO + "/": {"1h": 2, "24h": 2, "reach_1h": 11},
                                   CLIP: {"1h": 1, "24h": 1, "reach_1h": 5}}
    assert {term: counts[-2:] for term, counts in campaign["series"]["by_term"].items()} == {
        "#AcmeLaunch": [1, 1], VIDEO + "/": [1, 1], CLIP: [0, 1]}
    assert campaign["sentiment"] == {"net": 50.0, "positive": 3, "negative": 1}
    shared = [VIDEO + "?utm_source=social", VIDEO, VIDEO + "/?s=1", CLIP + "&t=30", VIDEO + "-2",
              "https://acme.example/launch", CLIP + "2"]  # as written, own posts left out
    assert agg.frame(t + 30)["urls"]["top"] == [{"url": u, "count": 1} for u in sorted(shared)]

    agg.ingest(from_dicts([post(8, t + 86_400, 3, tags=["acmelaunch"], urls=[VIDEO])])[0])
    later = agg.frame(t + 86_400)  # the bins of a day ago were reused, not added to
    assert later["campaign"]["posts"] == {"1h": 1, "24h": 1}
    assert later["urls"]["top"] == [{"url": VIDEO, "count": 1}]


def test_without_tracked_terms_the_campaign_is_there_with_zeros():
    agg = Aggregator(BRANDS, "acme")
    agg.ingest(from_dicts([{"id": "a", "time": 1_700_000_000.0, "hashtags": ["acmelaunch"],
                            "urls": [VIDEO]}])[0])
    frame = agg.frame(1_700_000_000.0)
    assert frame["campaign"] == {
        "terms": [], "window_s": 3600, "posts": {"1h": 0, "24h": 0},
        "reach": {"1h": 0, "24h": 0}, "by_term": {},
        "series": {"start": float((1_700_000_000 // 60 - 59) * 60), "step_s": 60, "by_term": {}},
        "sentiment": {"net": None, "positive": 0, "negative": 0}}
    assert frame["urls"] == {"window_s": 3600, "top": [{"url": VIDEO, "count": 1}]}


def test_a_restart_with_another_tracked_list_counts_each_remaining_post_once():
    t = 1_700_000_000.0
    agg = Aggregator(BRANDS, "acme", tracked=["#a", "#b", VIDEO])
    agg.ingest(from_dicts([
        {"id": "ab", "time": t, "hashtags": ["a", "b"], "followers": 1},
        {"id": "a-video", "time": t, "hashtags": ["a"], "urls": [VIDEO], "followers": 10},
        {"id": "b", "time": t, "hashtags": ["b"], "followers": 100},
    ])[0])
    state = json.loads(json.dumps(agg.to_state()))
    restored = Aggregator.from_state(state, tracked=[VIDEO, "#A", "#c"]).frame(t)["campaign"]
    assert restored["posts"] == {"1h": 2, "24h": 2}  # "b" carried only a term no longer tracked
    assert restored["reach"] == {"1h": 11, "24h": 11}
    assert {term: counts["24h"] for term, counts in restored["by_term"].items()} == {
        VIDEO: 1, "#A": 2, "#c": 0}
    for key in ("urls", "campaign"):  # a state saved before campaigns were counted
        del state[key]
    del state["config"]["tracked"]
    old = Aggregator.from_state(state, tracked=["#a"]).frame(t)
    assert (old["campaign"]["posts"]["24h"], old["volume"]) == (0, agg.frame(t)["volume"])


PARIS = ZoneInfo("Europe/Paris")
MARCH_25_2024 = 1_711_324_800  # a Monday, UTC; Paris changes to summer time that Sunday


def in_business(minute_start: int) -> bool:
    local = datetime.fromtimestamp(minute_start, PARIS)
    return local.weekday() < 5 and 9 <= local.hour < 18


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 60 * 24 * 10), st.integers(0, 60 * 24 * 3))
def test_business_hour_response_time_counts_only_open_minutes(start, length):
    agg = Aggregator(BRANDS, "acme", business_hours=(9, 18), timezone="Europe/Paris")
    posted = MARCH_25_2024 + 60 * start
    replied = posted + 60 * length
    expected = 60 * sum(in_business(m) for m in range(posted, replied, 60))
    assert agg.response_seconds(posted, replied) == expected


def test_a_friday_evening_question_answered_on_saturday_waited_ten_business_minutes():
    agg = Aggregator(BRANDS, "acme", business_hours=(9, 18), timezone="Europe/Paris")
    friday = datetime(2024, 3, 29, 17, 50, tzinfo=PARIS).timestamp()
    saturday = datetime(2024, 3, 30, 11, 0, tzinfo=PARIS).timestamp()
    agg.ingest(from_dicts([
        {"id": "q", "time": friday, "brand": "acme"},
        {"id": "r", "time": saturday, "brand": "acme", "own": True, "in_reply_to": "q"},
        {"id": "r2", "time": saturday + 60, "brand": "acme", "own": True, "in_reply_to": "q"},
    ])[0])
    response = agg.frame(saturday + 120)["response"]
    assert response["business_hours"] == {"hours": [9, 18], "weekdays": [0, 1, 2, 3, 4],
                                          "timezone": "Europe/Paris"}
    assert response["by_brand"]["acme"]["first_response_s"]["median"] == 600.0
    assert (response["by_brand"]["acme"]["answered"], response["by_brand"]["acme"]["rate"]) == (
        1, 1.0)


def test_a_competitor_reply_does_not_answer_our_customer():
    agg = Aggregator(BRANDS, "acme")
    agg.ingest(from_dicts([
        {"id": "q", "time": 1_700_000_000.0, "brand": "acme"},
        {"id": "r", "time": 1_700_000_060.0, "brand": "globex", "own": True, "in_reply_to": "q"},
    ])[0])
    agg.ingest(from_dicts([{"id": "s", "time": 1_700_000_090.0, "brand": "acme", "own": True,
                            "in_reply_to": "q"}])[0])
    acme = agg.frame(1_700_000_100.0)["response"]["by_brand"]["acme"]
    assert (acme["answered"], acme["first_response_s"]["mean"]) == (1, 90.0)


START = 1_700_000_040.0 - 1_700_000_040.0 % 3600


def minute_of_posts(rng, minute: int, rates: dict[str, float], negative: dict[str, float],
                    text: str = "service update") -> list[dict]:
    posts = []
    for brand, rate in rates.items():
        for k in range(rng.poisson(rate)):
            bad = rng.random() < negative[brand]
            posts.append({
                "id": f"{brand}-{minute}-{k}", "time": START + minute * 60 + rng.uniform(0, 60),
                "brand": brand, "text": text, "sentiment": -0.6 if bad else 0.4,
            })
    return posts


def simulate(minutes: int, spike_at: int | None = None, seed: int = 3) -> tuple[Aggregator, list]:
    rng = np.random.default_rng(seed)
    agg = Aggregator(["acme", "globex"], "acme")
    raised = []
    for m in range(minutes):
        spiking = spike_at is not None and spike_at <= m < spike_at + 25
        rates = {"acme": 100.0 if spiking else 20.0, "globex": 4.0}
        negative = {"acme": 0.7 if spiking else 0.2, "globex": 0.2}
        text = "acme outage everywhere" if spiking else "service update"
        agg.ingest(from_dicts(minute_of_posts(rng, m, rates, negative, text))[0])
        raised += agg.check_alerts(START + (m + 1) * 60 + 1)
    return agg, raised


def test_no_alert_on_a_steady_poisson_stream_over_six_hours():
    agg, raised = simulate(6 * 60)
    assert raised == []
    assert agg.frame(START + 6 * 3600)["alerts"] == []


def test_an_injected_spike_raises_one_volume_and_one_negative_alert_within_the_cooldown():
    agg, raised = simulate(3 * 60 + 29, spike_at=3 * 60)  # the cooldown is 30 min
    assert sorted((a["kind"], a["brand"]) for a in raised) == [("negative", "acme"),
                                                               ("volume", "acme")]
    volume = next(a for a in raised if a["kind"] == "volume")
    assert START + 3 * 3600 < volume["started_at"] <= START + 3 * 3600 + 5 * 60
    assert volume["suggest_scenario"] == "crisis"
    assert "outage" in volume["top_terms"]
    assert "acme: " in volume["reason"] and str(volume["value"]) in volume["reason"]
    assert volume["z"] >= AlertConfig().z_threshold and volume["acknowledged_by"] is None

    assert agg.acknowledge(volume["id"], by="presenter", at=123.0)
    assert not agg.acknowledge("no-such-alert", by="presenter")
    shown = {a["id"]: a for a in agg.frame(START + 3 * 3600 + 29 * 60)["alerts"]}
    assert (shown[volume["id"]]["acknowledged_by"],
            shown[volume["id"]]["acknowledged_at"]) == ("presenter", 123.0)


def test_no_alert_before_there_is_a_baseline():
    rng = np.random.default_rng(1)
    agg = Aggregator(["acme"], "acme")
    for m in range(60):
        agg.ingest(from_dicts(minute_of_posts(rng, m, {"acme": 200.0 if m > 30 else 5.0},
                                              {"acme": 0.9}))[0])
        assert agg.check_alerts(START + (m + 1) * 60) == []


def test_a_backfill_or_a_restart_after_downtime_does_not_count_as_a_baseline():
    rng = np.random.default_rng(2)
    agg = Aggregator(["acme"], "acme")
    old = [{"id": f"old{k}", "time": START + 3600 + k * 600.0, "brand": "acme"} for k in range(3)]
    agg.ingest(from_dicts(old)[0])  # what a source fetched at start, hours back
    for m in range(5 * 60, 5 * 60 + 60):
        agg.ingest(from_dicts(minute_of_posts(rng, m, {"acme": 200.0 if m % 60 > 30 else 5.0},
                                              {"acme": 0.9}))[0])
        assert agg.check_alerts(START + (m + 1) * 60) == []
    restarted = Aggregator.from_state(json.loads(json.dumps(agg.to_state())))
    for m in range(9 * 60, 9 * 60 + 30):  # back after three hours of downtime
        restarted.ingest(from_dicts(minute_of_posts(rng, m, {"acme": 200.0}, {"acme": 0.9}))[0])
        assert restarted.check_alerts(START + (m + 1) * 60) == []


def stream_with_everything() -> tuple[Aggregator, float]:
    agg, _ = simulate(4 * 60, spike_at=3 * 60)
    late = START + 4 * 3600
    agg.ingest(from_dicts([
        {"id": "q1", "time": late - 50, "brand": "acme", "handle": "@ann", "followers": 10,
         "country": "FR", "hashtags": ["fail"], "text": "no signal"},
        {"id": "q2", "time": late - 40, "brand": "globex", "country": "BR"},
        {"id": "r1", "time": late - 20, "brand": "acme", "own": True, "in_reply_to": "q1"},
    ])[0], rejected=3)
    return agg, late


def test_state_round_trip_through_json_keeps_the_frame_and_pending_replies():
    agg, late = stream_with_everything()
    restored = Aggregator.from_state(json.loads(json.dumps(agg.to_state())))
    assert restored.frame(late) == agg.frame(late)
    reply = from_dicts([{"id": "r2", "time": late + 5, "brand": "globex", "own": True,
                         "in_reply_to": "q2"}])[0]
    for a in (agg, restored):
        a.ingest(reply)
    assert restored.frame(late + 90) == agg.frame(late + 90)
    assert restored.frame(late + 90)["response"]["by_brand"]["globex"]["answered"] == 1


def test_a_restart_with_another_brand_list_keeps_the_brands_that_remain():
    agg, late = stream_with_everything()
    state = json.loads(json.dumps(agg.to_state()))
    restored = Aggregator.from_state(state, brands=["globex", "newco", "acme"])
    before, after = agg.frame(late), restored.frame(late)
    for name in ("acme", "globex"):
        assert after["volume"]["by_brand"][name] == before["volume"]["by_brand"][name]
        assert after["response"]["by_brand"][name] == before["response"]["by_brand"][name]
    assert after["volume"]["by_brand"]["newco"]["24h"] == 0
    assert after["hashtags"]["top"] == before["hashtags"]["top"]


def test_bad_configuration_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="own_brand"):
        Aggregator(BRANDS, "nope")
    with pytest.raises(ValueError, match="business_hours"):
        Aggregator(BRANDS, "acme", business_hours=(18, 9))
    with pytest.raises(ValueError, match="distinct"):
        Aggregator(["a", "a"], "a")
    with pytest.raises(ValueError, match="version"):
        Aggregator.from_state({"version": 99})
    with pytest.raises(ValueError, match="neither a #hashtag nor"):
        Aggregator(BRANDS, "acme", tracked=["acmelaunch"])
    with pytest.raises(ValueError, match="distinct"):
        Aggregator(BRANDS, "acme", tracked=["#Launch", "#launch"])
    with pytest.raises(ValueError, match="at most 8"):
        Aggregator(BRANDS, "acme", tracked=[f"#t{i}" for i in range(9)])
