"""Real-world documents through the sources: what reaches the wall, and that nothing is lost.

The documents in tests/fixtures/sources/ have the shape of real answers
(Reddit listings, Bluesky's searchPosts, Mastodon timelines, a listening
tool's export, feeds in odd encodings); a local HTTP server serves them, and
the shipped mappings in layouts/sources/ read them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from services import Answer, Collector

from controller.sources import parse_source_spec
from controller.sources.http import mapping_from_text
from wallrenderer.core.errors import WallError

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "sources"
MAPPINGS = ROOT / "layouts" / "sources"


def serve(service, name: str, content_type: str = "application/json") -> str:
    body = (FIXTURES / name).read_bytes()
    service.routes[f"/{name}"] = lambda r: Answer(200, body, {"Content-Type": content_type})
    return service.url(f"/{name}")


def poll_mapped(service, document: str, mapping: str) -> tuple[list[dict], dict]:
    url = serve(service, document)
    source = parse_source_spec(f"http:{url}?mapping={MAPPINGS / mapping}")
    got = Collector()
    source.attach(got)
    source.poll()
    return got.posts, source.status()


@pytest.mark.parametrize(("document", "mapping", "items"), [
    ("reddit-search.json", "reddit.yaml", 25),
    ("bluesky-search.json", "bluesky.yaml", 110),
    ("mastodon-tag-acme.json", "mastodon.yaml", 20),
    ("listening-export.json", "listening-export.yaml", 30),
])
def test_shipped_mappings_read_every_item_of_real_answers(service, document, mapping, items):
    posts, status = poll_mapped(service, document, mapping)
    assert len(posts) == items and status["dropped"] == 0, status["drops"]
    assert status["field_warnings"] == {}
    assert all(p["text"] for p in posts)


def test_reddit_single_strings_are_one_item_lists(service):
    posts, _ = poll_mapped(service, "reddit-search.json", "reddit.yaml")
    listing = json.loads((FIXTURES / "reddit-search.json").read_text())["data"]["children"]
    first = next(p for p in posts if p["id"] == listing[1]["data"]["name"])
    assert first["urls"] == [listing[1]["data"]["url"]]
    assert first["hashtags"] == [listing[1]["data"]["subreddit"]]
    assert first["network"] == "reddit"


def test_bluesky_facets_flatten_fallbacks_fill_and_links_come_once(service):
    posts, _ = poll_mapped(service, "bluesky-search.json", "bluesky.yaml")
    answer = json.loads((FIXTURES / "bluesky-search.json").read_text())["posts"]
    by_id = {p["id"]: p for p in posts}
    tagged = by_id[answer[2]["uri"]]                # "#Acme Box with #HomeKit?"
    assert tagged["hashtags"] == ["acme", "homekit"]
    doubled = by_id[answer[5]["uri"]]               # the same link in two facets
    assert doubled["urls"] == ["https://techdaily.example/acme-box", "https://acme.example/box"]
    unnamed = by_id[answer[0]["uri"]]               # no displayName: the handle
    assert unnamed["author"] == answer[0]["author"]["handle"]
    assert {p["language"] for p in posts} == {"en", "en-US", "pt-BR", "ja"}
    reply = by_id[answer[4]["uri"]]
    assert reply["in_reply_to"] == answer[3]["uri"]


def test_listening_export_maps_labels_fallbacks_and_posix_languages(service):
    posts, _ = poll_mapped(service, "listening-export.json", "listening-export.yaml")
    assert {p["sentiment"] for p in posts} == {0.5, 0.0, -0.5}
    assert {p["language"] for p in posts} == {"en", "fr", "pt-BR", "es"}
    assert {p["network"] for p in posts} == {"twitter", "instagram", "reddit", "news"}
    first = posts[0]
    assert (first["author"], first["urls"]) == ("user0", ["https://acme.example/box"])


@pytest.mark.parametrize(("text", "expected"), [
    ("fields:\n  id: a\n  time: b\n  hashtags: x..y\n", ":4: fields.hashtags: 'x..y' is not"),
    ("fields:\n  id: a\n  time: b\n  text: tags[].name\n",
     ":4: fields.text: a '[]' path gives a list"),
    ("fields:\n  id: {const: 1}\n  time: b\n", ":2: fields.id: a constant id"),
    ("fields:\n  id: a\n  time: b\n  text: {path: t, transform: lowercase}\n",
     ":4: fields.text.transform: unknown transform 'lowercase'; did you mean 'lower'?"),
    ("fields:\n  id: a\n  time: b\n  urls: {path: p, format: https://x}\n",
     ":4: fields.urls.format: a string with one {}"),
    ("fields:\n  id: a\n  time: b\n  sentiment: {path: s, map: [1]}\n",
     ":4: fields.sentiment.map: should map values"),
    ("fields:\n  id: a\n  time: b\n  author: []\n", ":4: fields.author: an empty list"),
    ("fields:\n  id: a\n  time: b\n  text: {path: t, const: x}\n",
     ":4: fields.text: a {const: VALUE} takes no other key"),
])
def test_a_mapping_that_cannot_work_is_refused_with_file_line_and_field(text, expected):
    with pytest.raises(WallError, match=None) as caught:
        mapping_from_text(text, "map.yaml")
    assert str(caught.value).startswith("map.yaml:") and expected in str(caught.value), \
        str(caught.value)
