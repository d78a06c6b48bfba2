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


# -- feeds: encodings nobody declared, RDF, Atom with content only --------------------------


def poll_feed(service, name: str) -> tuple[list[dict], dict]:
    url = serve(service, name, "application/xml")     # no charset: the bytes must tell
    source = parse_source_spec(f"rss:{url}")
    got = Collector()
    source.attach(got)
    source.poll()
    return got.posts, source.status()


def test_feeds_without_a_declared_encoding_are_read_in_their_own(service):
    russian, status = poll_feed(service, "news-koi8r-undeclared.rss")
    assert status["dropped"] == 0
    assert [p["text"].split("\n")[0] for p in russian] == [
        "Acme выпустила новую коробку", "Globex отвечает Acme"]
    assert russian[0]["author"] == "Иван Петров" and russian[0]["hashtags"] == ["умныйдом"]
    polish, _ = poll_feed(service, "news-iso8859-2-undeclared.rss")
    [post] = polish
    assert post["text"] == ("Nowe pudełko Acme już w sklepach\n"
                            "Klienci chwalą łączność. Więcej: tutaj")
    assert post["author"] == "Zofia Żak" and post["language"] == "pl-PL"
    assert post["hashtags"] == ["gowanuscanalbrooklynny", "acme", "smarthome"]
    assert post["urls"] == ["https://dziennik.example.pl/acme"]      # its own link once


def test_rdf_feed_with_a_posix_language_keeps_every_entry(service):
    posts, status = poll_feed(service, "journal-posix-language.rdf")
    assert len(posts) == 2 and status["dropped"] == 0 and status["field_warnings"] == {}
    assert {p["language"] for p in posts} == {"en-US"}
    assert [p["author"] for p in posts] == ["Mattt Thompson", "NSHipster"]   # never an address
    assert posts[0]["hashtags"] == ["gowanuscanalbrooklynny"]


def test_atom_entry_with_content_and_an_empty_summary_shows_the_content(service):
    [post], _ = poll_feed(service, "blog-utf16.atom")
    assert post["text"] == "Caixa Acme chega ao Brasil\nA nova caixa chega às lojas em dezembro. " \
                           "Saiba mais"
    assert (post["author"], post["language"]) == ("Equipe Acme", "pt-BR")
    assert post["urls"] == ["https://blog.acme.example/br/caixa", "https://acme.example/br"]


# -- Mastodon: custom emoji, repeated links, languages -------------------------------------------


def test_mastodon_statuses_lose_emoji_codes_and_repeated_links(service):
    body = (FIXTURES / "mastodon-tag-acme.json").read_bytes()
    service.routes["/api/v1/timelines/tag/acme"] = lambda r: Answer(
        200, body, {"Content-Type": "application/json; charset=utf-8"})
    source = parse_source_spec(f"mastodon:{service.base}/tags/acme")
    got = Collector()
    source.attach(got)
    source.poll()
    assert len(got.posts) == 20 and source.status()["dropped"] == 0
    assert not any(":blob" in p["text"] or ":blob" in p["author"] for p in got.posts)
    emoji = next(p for p in got.posts if p["id"].endswith(":113500000000001000"))
    assert emoji["author"] == "Ann Martin"
    assert emoji["text"] == "Loving the #acme box https://acme.example/box\nagain: acme.example/box"
    assert emoji["urls"] == ["https://mastodon.social/@u1/113500000000001000",
                             "https://acme.example/box"]
    assert {p["language"] for p in got.posts} == {"en", "de", "pt-BR"}
