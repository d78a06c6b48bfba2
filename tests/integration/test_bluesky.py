"""The `bluesky` source against a local server speaking Jetstream's protocol and a profile API.

Recorded-format events (posts about brands and not, likes, deletes, identity
and account events, malformed frames) over real WebSockets, a cut
connection mid-stream, a restart from the cursor file; the profile API is a
local HTTP server answering `app.bsky.actor.getProfiles`.
"""

from __future__ import annotations

import json

import pytest
from jetstream import START_US, Jetstream, post_event, recorded_stream
from services import Answer, Collector, wait_for

from controller.sources import parse_source_spec
from controller.sources.bluesky import BlueskySource

BRANDS = {"acme": ["acme"], "globex": ["globex"]}


def profile_api(service, answered: set[str] | None = None) -> list[list[str]]:
    """Profiles for every DID asked (or those in `answered`); the batches asked, in order."""
    asked: list[list[str]] = []

    def profiles(request):
        actors = request.lists.get("actors", [])
        asked.append(actors)
        known = [a for a in actors if answered is None or a in answered]
        return Answer(200, {"profiles": [
            {"did": did, "handle": f"{did.rsplit(':', 1)[1]}.bsky.social",
             "displayName": f"Person {did[-4:]}", "followersCount": 1234}
            for did in known]})

    service.routes["/xrpc/app.bsky.actor.getProfiles"] = profiles
    return asked


def expected_ids(events: list[dict]) -> list[str]:
    ids = []
    for event in events:
        commit = event.get("commit") or {}
        if commit.get("operation") == "create" and commit["collection"] == "app.bsky.feed.post":
            record = commit["record"]
            text = record["text"].lower()
            if "acme" in text or "globex" in text:
                ids.append(f"at://{event['did']}/app.bsky.feed.post/{commit['rkey']}")
    return ids


@pytest.fixture
def jetstreams():
    """Local Jetstream servers a test starts; closed at teardown."""
    started = []
    yield started
    for server in started:
        server.close()


def test_posts_arrive_once_through_a_cut_stream_and_malformed_frames(service, sources,
                                                                     jetstreams):
    events = recorded_stream(400)
    frames = [json.dumps(e) for e in events]
    bad_record = post_event(49, "acme")
    bad_record["time_us"] += 500                  # between events 49 and 50
    bad_record["commit"]["record"] = {"text": 5, "langs": ["acme"]}
    frames[50:50] = ['{"did": "did:plc:x", "time_us": "soon", "kind": "commit"}', "{not json",
                     json.dumps(bad_record)]
    jetstream = Jetstream(frames, cut_after=150)
    jetstreams.append(jetstream)
    asked = profile_api(service)
    source = parse_source_spec(f"bluesky:{jetstream.url}?profiles={service.base}&timeout=5",
                               brands=BRANDS, backoff=0.05, backoff_max=0.1)
    sources.append(source)
    got = Collector()
    source.start(got)
    want = expected_ids(events)
    wait_for(lambda: len(got.posts) >= len(want) and source.status()["state"] == "ok", 20,
             "every brand post, and the stream back")
    assert [p["id"] for p in got.posts] == want, "no gap, no duplicate, in stream order"
    assert len(jetstream.queries) == 2
    assert jetstream.queries[0]["wantedCollections"] == ["app.bsky.feed.post"]
    assert "cursor" not in jetstream.queries[0]
    resumed = int(jetstream.queries[1]["cursor"][0])
    assert START_US < resumed < events[-1]["time_us"]
    status = source.status()
    assert status["drops"]["malformed frame"]["count"] == 2
    assert status["drops"]["malformed post record"]["count"] == 1
    assert "time_us" in status["drops"]["malformed frame"]["example"] or \
        "not json" in status["drops"]["malformed frame"]["example"]
    assert "stream closed without a close frame" in status["last_error"]
    assert all(len(batch) <= 25 for batch in asked)
    authors = [did for batch in asked for did in batch]
    assert len(authors) == len(set(authors)), "each author looked up once (cached)"


def test_a_post_becomes_a_wall_post_with_facets_profile_and_brand(service, jetstreams):
    events = [
        post_event(1, "is anyone else's Acme hub offline? #AcmeDown https://status.acme.example",
                   tags=["AcmeDown"], links=["https://status.acme.example"],
                   did="did:plc:ewvi7nxzyoun6zhxrhs64oiz", langs=["pt_br"],
                   reply_to="at://did:plc:zz/app.bsky.feed.post/3kparent",
                   embed="https://status.acme.example"),
        post_event(2, "globex or nothing", did="did:plc:unknownunknown"),
        post_event(3, "acmeist art is not about the brand", did="did:plc:ewvi7nxzyoun6zhxrhs64oiz"),
    ]
    jetstream = Jetstream([json.dumps(e) for e in events])
    jetstreams.append(jetstream)
    profile_api(service, answered={"did:plc:ewvi7nxzyoun6zhxrhs64oiz"})
    source = BlueskySource(jetstream.url, brands=["acme", "globex"], profiles=service.base,
                           timeout=5)
    got = Collector()
    source.start(got)
    try:
        wait_for(lambda: len(got.posts) == 2, 10, "two brand posts")
    finally:
        source.stop()
    first, second = got.posts
    assert first == {
        "id": "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3l3qo2v000001",
        "time": (START_US + 1000) / 1e6, "network": "bluesky", "author": "Person 4oiz",
        "handle": "ewvi7nxzyoun6zhxrhs64oiz.bsky.social", "followers": 1234,
        "text": "is anyone else's Acme hub offline? #AcmeDown https://status.acme.example",
        "language": "pt-BR", "country": "", "brand": "acme", "hashtags": ["acmedown"],
        "urls": ["https://status.acme.example"], "sentiment": None,
        "in_reply_to": "at://did:plc:zz/app.bsky.feed.post/3kparent", "own": False,
    }
    # no profile for this one: its DID stands in for the handle, the post is kept
    assert (second["brand"], second["handle"], second["author"]) == (
        "globex", "did:plc:unknownunknown", "did:plc:unknownunknown")


def test_a_restart_resumes_from_the_cursor_file(service, jetstreams, tmp_path):
    events = recorded_stream(300, seed=3)
    frames = [json.dumps(e) for e in events]
    profile_api(service)
    cursor = tmp_path / "bluesky.cursor"
    first_half = Jetstream(frames[:150])
    jetstreams.append(first_half)
    spec = f"?profiles={service.base}&cursor_file={cursor}&timeout=5"
    got = Collector()
    before = parse_source_spec(f"bluesky:{first_half.url}{spec}", brands=BRANDS)
    before.start(got)
    try:
        wait_for(lambda: len(got.posts) == len(expected_ids(events[:150])), 10, "the first half")
    finally:
        before.stop()
    saved = int(cursor.read_text())
    assert saved == events[149]["time_us"]
    whole = Jetstream(frames)                       # the same stream, further on
    jetstreams.append(whole)
    after = parse_source_spec(f"bluesky:{whole.url}{spec}", brands=BRANDS)
    after.start(got)
    try:
        wait_for(lambda: len(got.posts) >= len(expected_ids(events)), 10, "the second half")
    finally:
        after.stop()
    assert whole.queries[0]["cursor"] == [str(saved)]
    assert [p["id"] for p in got.posts] == expected_ids(events)
