"""Sources against real parts: a local HTTP server speaking each service's protocol, real files.

The server is the standard library's `ThreadingHTTPServer` on 127.0.0.1 in a
thread. It answers as the services document it: Mastodon's timelines (Status
JSON, `limit` / `since_id` / `max_id` paging with `Link` headers,
`X-RateLimit-*` headers, 429 with Retry-After), a generic JSON API with ETag /
Last-Modified revalidation, RSS 2.0 and Atom feeds, and the failures a wall
meets in the field: slow answers, malformed JSON, 500s, 503s. Most tests call a
source's `poll()` directly (one real request per call, no timing games); the
health tests run the source's own thread and watch its `status()`.
"""

from __future__ import annotations

import email.utils
import json
import socket
import statistics
import threading
import time
from datetime import datetime, timezone

import pytest
from services import Answer, Collector, Request, Service, wait_for

from controller.posts import match_brand, parse_time
from controller.sources import parse_source_spec
from controller.sources.base import RetryLater, SourceError, html_to_text
from controller.sources.http import HttpSource, load_mapping, mapping_from_text
from controller.sources.mastodon import MastodonSource
from controller.sources.replay import ReplaySource
from controller.sources.rss import RssSource
from controller.sources.simulator import SimulatorSource
from controller.sources.webhook import WebhookSource
from wallrenderer.core.errors import WallError

START = 1795219200.0        # 2026-11-21 00:00:00 UTC, a Saturday


# -- parsing specs, matching brands ------------------------------------------------


def test_every_spec_form_gives_its_source(tmp_path):
    recording = tmp_path / "posts.jsonl"
    recording.write_text("")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("items: data.posts\nfields: {id: uid, time: created}\n")

    sim = parse_source_spec("simulator?seed=7&brand=acme&rate=20&competitors=globex,initech",
                            brands={"acme": ["acme"]}, backoff=0.5)
    assert isinstance(sim, SimulatorSource)
    assert (sim.seed, sim.brand, sim.rate) == (7, "acme", 20.0)
    assert sorted(sim.profiles) == ["acme", "globex", "initech"]
    assert isinstance(parse_source_spec("simulator"), SimulatorSource)

    replay = parse_source_spec(f"replay:{recording}?speed=10&loop=1")
    assert (replay.speed, replay.loop, replay.path) == (10.0, True, recording)

    http = parse_source_spec(f"http:https://user:pw@api.example/v1/posts?page=1&mapping={mapping}"
                             "&interval=5", brands={"acme": ["acme"]})
    assert isinstance(http, HttpSource)
    assert http.url == "https://user:pw@api.example/v1/posts?page=1"   # its own query stays
    assert http.interval == 5.0 and http.fill.brands == {"acme": ["acme"]}
    assert http.mapping.items.text == "data.posts"
    assert http.name == "http:https://api.example/v1/posts"   # no password on the status page
    assert isinstance(parse_source_spec("https://api.example/posts"), HttpSource)

    tag = parse_source_spec("mastodon:mastodon.social/tags/Acme")
    assert (tag.endpoint, tag.tag) == ("https://mastodon.social/api/v1/timelines/tag/Acme", "Acme")
    local = parse_source_spec("mastodon:http://127.0.0.1:8000/public/local?interval=2")
    assert local.endpoint == "http://127.0.0.1:8000/api/v1/timelines/public"
    assert local.local and local.interval == 2.0
    assert not parse_source_spec("mastodon:fosstodon.org/public").local

    rss = parse_source_spec("rss:https://news.example/feed.xml?interval=60")
    assert isinstance(rss, RssSource) and rss.url == "https://news.example/feed.xml"

    assert isinstance(parse_source_spec("webhook"), WebhookSource)


@pytest.mark.parametrize(("spec", "expected"), [
    ("twitter:acme", "unknown source kind 'twitter'"),
    ("simulatr?seed=1", "did you mean 'simulator'"),
    ("simulator?sed=1", "unknown option 'sed'; did you mean 'seed'"),
    ("simulator?rate=fast", "rate must be a number, got 'fast'"),
    ("simulator?seed=-3", "seed must not be negative"),
    ("replay:", "needs a file"),
    ("replay:/nonexistent/posts.jsonl", "no such file"),
    ("http:ftp://example.com/x", "is not an http:// or https:// URL"),
    ("http:https://api.example/x?mapping=/nonexistent.yaml", "cannot read the mapping"),
    ("mastodon:mastodon.social/tags/", "unknown timeline"),
    ("mastodon:mastodon.social/tags/no-dash", "is not a hashtag"),
    ("mastodon:mastodon.social/home", "unknown timeline 'home'"),
    ("mastodon:/tags/acme", "is not a server name"),
    ("rss:news.example/feed", "is not an http:// or https:// URL"),
    ("webhook:x", "takes no ':' argument"),
])
def test_bad_specs_name_the_spec_and_the_problem(spec, expected):
    with pytest.raises(WallError) as caught:
        parse_source_spec(spec)
    assert spec in str(caught.value)
    assert expected in str(caught.value)


def test_mapping_errors_carry_file_line_and_field(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("items: data.posts\nfields:\n  id: uid\n  time: created\n  auther: user.name\n")
    with pytest.raises(WallError, match=r"map.yaml:5: fields.auther: unknown key; "
                                        r"did you mean 'author'\?"):
        load_mapping(path)
    with pytest.raises(WallError, match=r":2: fields.time: missing"):
        mapping_from_text("items: x\nfields: {id: uid}\n")
    with pytest.raises(WallError, match=r":1: time_format: one of auto"):
        mapping_from_text("time_format: weekly\nfields: {id: a, time: b}\n")


def test_brand_matching_uses_word_boundaries_and_hashtags():
    brands = {"acme": ["acme", "Acme Corp"], "globex": ["globex", "@globexcare"]}
    assert match_brand("Loving Acme's new box", [], brands) == "acme"
    assert match_brand("ACME CORP results are out", [], brands) == "acme"
    assert match_brand("the acmeist movement", [], brands) == ""
    assert match_brand("thanks @GlobexCare!", [], brands) == "globex"
    assert match_brand("nothing here", ["Globex"], brands) == "globex"
    assert match_brand("globex and acme", [], brands) == "acme"      # configured order wins
    assert match_brand("acme", [], None) == ""


def test_times_and_html():
    assert parse_time("2026-11-21T10:00:00.5Z") == START + 36000.5
    assert parse_time("2026-11-21T11:00:00+01:00") == START + 36000
    assert parse_time("Sat, 21 Nov 2026 10:00:00 GMT") == START + 36000
    assert parse_time(1795255200000) == START + 36000              # milliseconds
    with pytest.raises(ValueError):
        parse_time("yesterday")
    text, links = html_to_text('<p>Hi <a href="https://x.example/t/a" class="mention hashtag">#a'
                               '</a> &amp; bye<br>line <a href="https://shop.example/1">'
                               '<span class="invisible">https://</span>shop.example/1</a></p>'
                               '<p>two</p><script>alert(1)</script>')
    assert text == "Hi #a & bye\nline https://shop.example/1\ntwo"
    assert links == ["https://shop.example/1"]


# -- Mastodon ------------------------------------------------------------------------


def status(n: int, **extra) -> dict:
    """A Status as Mastodon's API documents it (the fields the source reads, and others)."""
    created = datetime.fromtimestamp(START + n, timezone.utc)
    body = {
        "id": str(109000000000000000 + n),
        "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": f"https://social.example/users/user{n % 7}/statuses/{n}",
        "url": f"https://social.example/@user{n % 7}/{n}",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "content": f'<p>Post {n} about <a href="https://social.example/tags/acme" '
                   f'class="mention hashtag" rel="tag">#<span>acme</span></a></p>',
        "reblog": None,
        "account": {"id": str(n % 7), "username": f"user{n % 7}", "acct": f"user{n % 7}",
                    "display_name": f"User {n % 7}", "followers_count": 10 * n,
                    "url": f"https://social.example/@user{n % 7}"},
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": "acme", "url": "https://social.example/tags/acme"}],
        "emojis": [],
        "card": None,
        "poll": None,
    }
    body.update(extra)
    return body


class Timeline:
    """Mastodon's timeline paging: newest first, limit (max 40), since_id, max_id, Link."""

    def __init__(self, service: Service, path: str):
        self.service = service
        self.path = path
        self.statuses: list[dict] = []
        self.remaining = 300
        self.reset_in = 300.0

    def __call__(self, request: Request) -> Answer:
        key = int
        limit = min(int(request.query.get("limit", 20)), 40)
        found = sorted(self.statuses, key=lambda s: key(s["id"]), reverse=True)
        if "max_id" in request.query:
            found = [s for s in found if key(s["id"]) < key(request.query["max_id"])]
        if "since_id" in request.query:
            found = [s for s in found if key(s["id"]) > key(request.query["since_id"])]
        page = found[:limit]
        self.remaining -= 1
        now = time.time()
        reset = datetime.fromtimestamp(now + self.reset_in, timezone.utc)
        headers = {
            "Date": email.utils.formatdate(now, usegmt=True),
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        if page:
            url = self.service.url(self.path)
            headers["Link"] = (f'<{url}?limit={limit}&max_id={page[-1]["id"]}>; rel="next", '
                               f'<{url}?limit={limit}&min_id={page[0]["id"]}>; rel="prev"')
        return Answer(200, page, headers)


def test_mastodon_maps_statuses_and_pages_with_since_id(service):
    timeline = Timeline(service, "/api/v1/timelines/tag/acme")
    service.routes[timeline.path] = timeline
    timeline.statuses = [status(n) for n in range(1, 51)]
    source = parse_source_spec(f"mastodon:{service.base}/tags/acme", own_accounts=["user3"])
    got = Collector()
    source.attach(got)

    # first poll: the latest page only
    source.poll()
    assert [r.query for r in service.requests] == [{"limit": "40"}]
    assert service.requests[0].headers["User-Agent"].startswith("wallrenderer/")
    assert len(got.posts) == 40
    assert [p["time"] for p in got.posts] == sorted(p["time"] for p in got.posts)
    first = got.posts[0]
    assert first == {
        "id": "mastodon:127.0.0.1:" + str(service.server.server_address[1]) + ":109000000000000011",
        "time": START + 11,
        "network": "mastodon",
        "author": "User 4",
        "handle": "user4",
        "followers": 110,
        "text": "Post 11 about #acme",
        "language": "en",
        "country": "",
        "brand": "acme",
        "hashtags": ["acme"],
        "urls": ["https://social.example/@user4/11"],
        "sentiment": None,
        "in_reply_to": "",
        "own": False,
    }
    assert [p["own"] for p in got.posts if p["handle"] == "user3"] == [True] * 5   # 17, 24, ...

    # a burst of 95 new statuses: pages of 40 down to since_id, via Link rel="next"
    service.requests.clear()
    timeline.statuses += [status(n) for n in range(51, 146)]
    timeline.statuses[-10] = status(136, reblog=status(3))                 # a boost
    timeline.statuses[-5] = status(141, in_reply_to_id=str(109000000000000140),
                                   content="<p>Replying<br>with <b>two</b> lines</p>",
                                   spoiler_text="spoilers", language=None)
    got.posts.clear()
    source.poll()
    since = "109000000000000050"
    assert [r.query.get("since_id") for r in service.requests] == [since] * 3
    assert [r.query.get("max_id") for r in service.requests] == [
        None, "109000000000000106", "109000000000000066"]
    times = [p["time"] - START for p in got.posts]
    assert times == [n for n in range(51, 146) if n != 136]              # boost skipped, in order
    reply = next(p for p in got.posts if p["time"] == START + 141)
    assert reply["in_reply_to"].endswith(":109000000000000140")
    assert reply["text"] == "CW: spoilers\nReplying\nwith two lines"
    assert reply["language"] == ""

    # nothing new: one request, nothing handed over
    service.requests.clear()
    got.posts.clear()
    source.poll()
    assert [r.query for r in service.requests] == [{"limit": "40",
                                                    "since_id": "109000000000000145"}]
    assert got.posts == []
    assert source.status()["dropped"] == 0


def test_mastodon_waits_for_the_rate_limit_reset(service):
    timeline = Timeline(service, "/api/v1/timelines/public")
    service.routes[timeline.path] = timeline
    timeline.statuses = [status(1)]
    timeline.remaining, timeline.reset_in = 10, 90.0
    source = MastodonSource(service.base, local=True, interval=5.0, max_pages=5)
    source.attach(Collector())
    assert source.poll() == 5.0                    # budget left: the usual interval
    assert service.requests[-1].query == {"limit": "40", "local": "true"}
    timeline.remaining = 5
    assert 85.0 <= source.poll() <= 91.0           # not enough for a full poll: wait for reset


def test_mastodon_429_backs_off_as_told_then_recovers(service, sources):
    timeline = Timeline(service, "/api/v1/timelines/tag/acme")
    timeline.statuses = [status(n) for n in range(1, 4)]
    calls = []

    def limited(request):
        calls.append(request.at)
        if len(calls) == 1:
            return Answer(429, {"error": "Too many requests"}, {
                "Retry-After": "1", "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "2026-11-21T00:05:00.000Z"})
        return timeline(request)

    service.routes[timeline.path] = limited
    source = MastodonSource(service.base, tag="acme", interval=0.05, backoff=0.01)
    sources.append(source)
    got = Collector()
    source.start(got)
    wait_for(lambda: source.status()["state"] == "degraded", 2, "degraded after the 429")
    assert "HTTP 429" in source.status()["last_error"]
    wait_for(lambda: source.status()["state"] == "ok", 3, "recovery after Retry-After")
    assert len(got.posts) == 3
    assert calls[1] - calls[0] >= 0.95          # waited as Retry-After said, not the back-off


# -- a generic JSON API ------------------------------------------------------------------

MAPPING = """\
# A forum's API: {"data": {"posts": [...]}, "next": ...}
items: data.posts
time_format: "%Y-%m-%d %H:%M:%S"
fields:
  id: uid
  time: created
  text: body
  author: user.name
  handle: user.screen_name
  followers: user.followers
  hashtags: entities.hashtags[].text
  urls: entities.urls[].expanded_url
  sentiment: score
  language: lang
  in_reply_to: parent
  network: {const: forum}
"""


def forum_post(n: int, **extra) -> dict:
    post = {
        "uid": n,
        "created": f"2026-11-21 10:00:{n:02d}",
        "body": f"Acme post number {n}",
        "user": {"name": f"Person {n}", "screen_name": f"person{n}", "followers": 100 + n},
        "entities": {"hashtags": [{"text": "Acme"}, {"text": "#Help"}],
                     "urls": [{"expanded_url": f"https://forum.example/t/{n}"}]},
        "score": 0.25,
        "lang": "en",
        "parent": None,
    }
    post.update(extra)
    return post


class JsonApi:
    """An API that revalidates: ETag and Last-Modified, 304 when unchanged."""

    def __init__(self):
        self.posts: list[dict] = []
        self.modified = "Sat, 21 Nov 2026 10:00:00 GMT"

    def __call__(self, request: Request) -> Answer:
        etag = f'"v{len(self.posts)}"'
        if request.headers.get("If-None-Match") == etag:
            return Answer(304, b"", {"ETag": etag})
        return Answer(200, {"data": {"posts": self.posts}, "next": None},
                      {"ETag": etag, "Last-Modified": self.modified})


def test_http_maps_revalidates_and_dedupes(service, tmp_path):
    api = JsonApi()
    api.posts = [forum_post(1), forum_post(2, parent=1), {"uid": 3, "body": "no time"}]
    service.routes["/v1/mentions"] = api
    mapping = tmp_path / "forum.yaml"
    mapping.write_text(MAPPING)
    source = parse_source_spec(f"http:{service.url('/v1/mentions')}?mapping={mapping}",
                               brands={"acme": ["acme"]})
    got = Collector()
    source.attach(got)

    assert source.poll() == 30.0
    assert [p["id"] for p in got.posts] == ["1", "2"]
    assert got.posts[1] == {
        "id": "2", "time": START + 36002, "network": "forum", "author": "Person 2",
        "handle": "person2", "followers": 102, "text": "Acme post number 2", "language": "en",
        "country": "", "brand": "acme", "hashtags": ["acme", "help"],
        "urls": ["https://forum.example/t/2"], "sentiment": 0.25, "in_reply_to": "1",
        "own": False,
    }
    assert source.status()["dropped"] == 1          # the item without a time

    source.poll()                                   # unchanged: 304
    assert service.requests[-1].headers["If-None-Match"] == '"v3"'
    assert service.requests[-1].headers["If-Modified-Since"] == api.modified
    assert len(got.posts) == 2

    api.posts.append(forum_post(4))                 # the API answers with the old ones too
    source.poll()
    assert [p["id"] for p in got.posts] == ["1", "2", "4"]


def test_http_failures_are_source_errors(service):
    service.routes["/slow"] = lambda r: Answer(200, [], delay=1.0)
    service.routes["/broken"] = lambda r: Answer(200, '{"data": [1, 2', {"Content-Type":
                                                                         "application/json"})
    service.routes["/shape"] = lambda r: Answer(200, {"data": {"posts": 3}})
    retry_at = email.utils.formatdate(time.time() + 120, usegmt=True)
    service.routes["/busy"] = lambda r: Answer(503, "maintenance", {"Retry-After": retry_at})

    began = time.monotonic()
    with pytest.raises(SourceError, match="no answer within 0.2 s"):
        HttpSource(service.url("/slow"), timeout=0.2).poll()
    assert time.monotonic() - began < 0.9
    with pytest.raises(SourceError, match="malformed JSON"):
        HttpSource(service.url("/broken")).poll()
    with pytest.raises(SourceError, match="no list at 'data.posts'"):
        HttpSource(service.url("/shape"), mapping=mapping_from_text(MAPPING)).poll()
    with pytest.raises(RetryLater) as caught:
        HttpSource(service.url("/busy")).poll()
    assert 100 < caught.value.after <= 121 and "HTTP 503" in str(caught.value)
    with pytest.raises(SourceError, match="HTTP 404"):
        HttpSource(service.url("/nowhere")).poll()
    with socket.socket() as unused:             # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(SourceError, match="refused"):
        HttpSource(f"http://127.0.0.1:{port}/x", timeout=1).poll()


def test_http_source_degrades_on_500s_and_recovers_by_itself(service, sources):
    api = JsonApi()
    api.posts = [forum_post(1), forum_post(2)]
    failing = threading.Event()
    failing.set()
    service.routes["/v1/mentions"] = lambda r: Answer(500, "oops") if failing.is_set() else api(r)
    source = HttpSource(service.url("/v1/mentions"), mapping=mapping_from_text(MAPPING),
                        interval=0.05, backoff=0.02, backoff_max=0.1)
    sources.append(source)
    got = Collector()
    assert source.status()["state"] == "starting"
    source.start(got)
    wait_for(lambda: source.status()["state"] == "degraded", 2, "degraded")
    wait_for(lambda: len(service.requests) >= 3, 2, "retries")
    status = source.status()
    assert status["last_error"].endswith("HTTP 500 Internal Server Error")
    assert status["last_ok_at"] is None and got.posts == []
    failing.clear()
    wait_for(lambda: source.status()["state"] == "ok", 2, "recovery")
    wait_for(lambda: len(got.posts) == 2, 2, "the posts")
    assert source.status()["ingested"] == 2
    source.stop()
    source.stop()                                     # safe twice
    assert source.status()["state"] == "stopped"


# -- feeds --------------------------------------------------------------------------------

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Tech Daily</title>
  <link>https://techdaily.example/</link>
  <description>News</description>
  <language>en-gb</language>
  <item>
    <title>Acme unveils its new Box</title>
    <link>https://techdaily.example/acme-box</link>
    <description><![CDATA[<p>The <b>Acme</b> Box is out.</p><p>Read <a href="https://acme.example">more</a></p>]]></description>
    <dc:creator>Jane Reporter</dc:creator>
    <category>Smart Home</category>
    <guid isPermaLink="false">td-1001</guid>
    <pubDate>Sat, 21 Nov 2026 09:30:00 GMT</pubDate>
  </item>
  <item>
    <title>Globex shares fall</title>
    <link>https://techdaily.example/globex</link>
    <pubDate>Sat, 21 Nov 2026 08:00:00 +0000</pubDate>
  </item>
</channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">
  <title>Le blog d'Acme</title>
  <link href="https://blog.acme.example/"/>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2026-11-21T10:00:00Z</updated>
  <entry>
    <title>Notre nouvelle box</title>
    <link href="https://blog.acme.example/box"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <updated>2026-11-21T10:00:00Z</updated>
    <published>2026-11-21T09:00:00+01:00</published>
    <author><name>Équipe Acme</name></author>
    <summary type="html">&lt;p&gt;Elle arrive&amp;nbsp;!&lt;/p&gt;</summary>
    <category term="acme"/>
  </entry>
</feed>
"""


def test_rss_and_atom_feeds_become_posts(service):
    versions = {"etag": '"rss-1"', "body": RSS}

    def feed(request):
        if request.headers.get("If-None-Match") == versions["etag"]:
            return Answer(304)
        return Answer(200, versions["body"], {"Content-Type": "application/rss+xml",
                                              "ETag": versions["etag"]})

    service.routes["/feed.xml"] = feed
    service.routes["/atom"] = lambda r: Answer(200, ATOM, {"Content-Type": "application/atom+xml"})
    service.routes["/page"] = lambda r: Answer(200, "<html><body>Hello</body></html>",
                                               {"Content-Type": "text/html"})
    brands = {"acme": ["acme"], "globex": ["globex"]}

    rss = parse_source_spec(f"rss:{service.url('/feed.xml')}", brands=brands)
    got = Collector()
    rss.attach(got)
    rss.poll()
    assert [p["id"] for p in got.posts] == ["rss:https://techdaily.example/globex", "rss:td-1001"]
    news = got.posts[1]
    assert news == {
        "id": "rss:td-1001", "time": START + 9.5 * 3600, "network": "rss",
        "author": "Jane Reporter", "handle": "techdaily.example", "followers": 0,
        "text": "Acme unveils its new Box\nThe Acme Box is out.\nRead more",
        "language": "en-GB", "country": "", "brand": "acme", "hashtags": ["smarthome"],
        "urls": ["https://techdaily.example/acme-box", "https://acme.example"],
        "sentiment": None, "in_reply_to": "", "own": False,
    }
    assert got.posts[0]["author"] == "Tech Daily" and got.posts[0]["brand"] == "globex"

    rss.poll()                                      # 304: nothing new
    assert service.requests[-1].headers["If-None-Match"] == '"rss-1"'
    versions.update(etag='"rss-2"', body=RSS.replace("<item>", """<item>
    <title>Initech hires</title><link>https://techdaily.example/initech</link>
  </item>
  <item>""", 1))
    rss.poll()                                      # changed: only the new entry
    assert [p["id"] for p in got.posts][2:] == ["rss:https://techdaily.example/initech"]

    atom = RssSource(service.url("/atom"), own_accounts=["blog.acme.example"], brands=brands)
    atom.attach(got)
    atom.poll()
    entry = got.posts[-1]
    assert entry["id"] == "rss:urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert entry["time"] == START + 8 * 3600
    assert (entry["author"], entry["handle"], entry["own"]) == ("Équipe Acme",
                                                                "blog.acme.example", True)
    assert entry["text"] == "Notre nouvelle box\nElle arrive !"
    assert (entry["language"], entry["brand"], entry["hashtags"]) == ("fr", "acme", ["acme"])

    with pytest.raises(SourceError, match="unreadable feed"):
        RssSource(service.url("/page")).poll()


# -- replay --------------------------------------------------------------------------------


def recorded(n: int, t: float, **extra) -> str:
    post = {"id": f"p{n}", "time": t, "network": "mastodon", "author": f"A{n}", "handle": f"a{n}",
            "followers": n, "text": f"post {n}", "language": "en", "country": "FR",
            "brand": "acme", "hashtags": ["acme"], "urls": [], "sentiment": 0.1,
            "in_reply_to": "", "own": False}
    post.update(extra)
    return json.dumps(post)


@pytest.fixture
def recording(tmp_path):
    lines = [
        recorded(1, START),
        "this is not json",
        recorded(2, START + 1.0),
        "",
        "[1, 2, 3]",
        recorded(3, START + 2.0, in_reply_to="p1", own=True),
        '{"id": "p9", "text": "no time"}',
        recorded(4, START + 2.0)[:-10],                         # cut short
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_replay_drops_and_counts_bad_lines(recording, sources):
    source = parse_source_spec(f"replay:{recording}?speed=0")
    sources.append(source)
    got = Collector()
    source.start(got)
    wait_for(lambda: source.status()["state"] == "stopped", 3, "the end of the file")
    assert [p["id"] for p in got.posts] == ["p1", "p2", "p3"]
    assert got.posts[2]["own"] is True and got.posts[2]["in_reply_to"] == "p1"
    status = source.status()
    assert (status["ingested"], status["dropped"], status["last_error"]) == (3, 4, None)


def test_replay_raw_lines_go_to_the_fast_path(recording, sources):
    source = ReplaySource(recording, speed=0)
    sources.append(source)
    dicts, raw = Collector(), Collector()
    source.start(dicts, raw_sink=raw)
    wait_for(lambda: source.status()["state"] == "stopped", 3, "the end of the file")
    assert dicts.posts == []
    assert all(isinstance(line, bytes) for line in raw.posts)
    assert len(raw.posts) == 7                      # all but the blank line: the controller parses
    source.count_dropped(4)                         # ... and reports what it rejected
    assert source.status()["dropped"] == 4


def test_replay_keeps_the_recorded_pace(tmp_path, sources):
    path = tmp_path / "paced.jsonl"
    path.write_text("\n".join(recorded(n, START + n) for n in range(3)) + "\n")   # 2 s recorded
    source = ReplaySource(path, speed=100)
    sources.append(source)
    got = Collector()
    began = time.monotonic()
    source.start(got)
    wait_for(lambda: source.status()["state"] == "stopped", 3, "the end of the file")
    assert len(got.posts) == 3
    assert got.arrivals[2] - got.arrivals[0] >= 0.01      # 2 s / 100, give or take scheduling
    assert time.monotonic() - began < 2.0


@pytest.mark.parametrize("raw", [False, True])
def test_replay_loops_with_increasing_times(recording, sources, raw):
    source = ReplaySource(recording, speed=0, loop=True, batch=2)
    sources.append(source)
    got = Collector()
    if raw:
        source.start(Collector(), raw_sink=got)
    else:
        source.start(got)
    wait_for(lambda: len(got.posts) >= 40, 3, "several passes")
    source.stop()
    posts = got.posts
    if raw:      # the controller's parser would drop the bad lines; here, by hand
        parsed = []
        for line in posts:
            try:
                parsed.append(json.loads(line))
            except ValueError:
                continue
        posts = [p for p in parsed if isinstance(p, dict) and "time" in p]
    times = [p["time"] for p in posts]
    assert all(a <= b for a, b in zip(times, times[1:], strict=False)), "times go back"
    assert times[-1] - times[0] > 6.0                    # several 3-second passes
    good = [p for p in posts if p["id"].startswith(("p1", "p2", "p3"))]
    assert len({p["id"] for p in good}) == len(good), "ids repeat across passes"
    second = {p["id"]: p for p in good if p["id"].endswith("#1")}
    assert second["p3#1"]["in_reply_to"] == "p1#1"
    # shifted by the span (2 s) and the mean gap: 1 s over the valid lines, 2/3 s over
    # every line with a time on the raw path, where the cut-short line counts too
    assert second["p1#1"]["time"] == START + (2 + 2 / 3 if raw else 3.0)


# -- simulator ------------------------------------------------------------------------------


def test_simulator_is_deterministic_however_it_is_polled():
    whole = SimulatorSource(seed=11, start=START, rate=30).generate_until(START + 7200)
    polled = SimulatorSource(seed=11, start=START, rate=30)
    pieces = []
    t = START
    while t < START + 7200:
        t = min(START + 7200, t + 97.3)
        pieces += polled.generate_until(t)
    assert len(whole) > 1000
    assert pieces == whole
    other = SimulatorSource(seed=12, start=START, rate=30).generate_until(START + 7200)
    assert other != whole


@pytest.fixture(scope="module")
def simulated_day():
    """A day of the simulated stream (rate 20 per minute), shared by the statistical tests."""
    return SimulatorSource(seed=5, start=START, rate=20).generate_until(START + 86400)


def test_simulator_has_a_daily_rhythm(simulated_day):
    posts = [p for p in simulated_day if not p["in_reply_to"]]
    by_hour = [0] * 24
    for post in posts:
        by_hour[int((post["time"] - START) // 3600)] += 1
    assert by_hour[14] > 2 * by_hour[3], by_hour
    assert abs(len(posts) / 1440 - 20) < 2              # the rate is the daily mean
    languages = {p["language"] for p in posts}
    countries = {p["country"] for p in posts}
    assert {"en", "fr", "de", "es", "ja"} <= languages
    assert {"FR", "GB", "US", "BR", ""} <= countries
    assert sum("acmelaunch" in p["hashtags"] for p in posts) > 100     # the campaign runs
    for post in posts[:200]:
        assert -1 <= post["sentiment"] <= 1
        assert all(f"#{tag}" in post["text"] for tag in post["hashtags"])
    mild = sum(abs(p["sentiment"]) < 0.5 for p in posts) / len(posts)
    assert mild > 0.75


def test_simulator_followers_are_heavy_tailed(simulated_day):
    followers = sorted({p["handle"]: p["followers"] for p in simulated_day if not p["own"]
                        and not p["in_reply_to"]}.values())
    median = followers[len(followers) // 2]
    top = followers[-max(1, len(followers) // 100):]
    assert followers[-1] > 100 * median
    assert sum(top) > 0.25 * sum(followers)             # 1% of the authors, a quarter of the reach


def test_simulator_brands_reply_after_realistic_delays(simulated_day):
    by_id = {p["id"]: p for p in simulated_day}
    replies = [p for p in simulated_day if p["in_reply_to"]]
    delays: dict[str, list[float]] = {}
    for reply in replies:
        asked = by_id.get(reply["in_reply_to"])
        if asked is None:
            continue                 # the question was asked before the simulated day
        assert reply["brand"] == asked["brand"]
        assert reply["text"].startswith(f"@{asked['handle']} ")
        assert reply["time"] > asked["time"]
        delays.setdefault(reply["brand"], []).append(reply["time"] - asked["time"])
    # Every reply comes from its brand's own account, competitors' included (docs/posts.md).
    assert replies and all(p["own"] and p["handle"].startswith(p["brand"]) for p in replies)
    own = [p for p in replies if p["brand"] == "acme"]
    ours = statistics.median(delays["acme"])
    assert 60 < ours < 3600                              # minutes, not seconds or days
    assert all(statistics.median(delays[b]) > ours for b in ("globex", "initech", "umbrella"))
    assert len(delays["acme"]) > 2 * len(delays["umbrella"])
    night = [r["time"] - by_id[r["in_reply_to"]]["time"] for r in own
             if r["in_reply_to"] in by_id and 1 <= (by_id[r["in_reply_to"]]["time"] - START) / 3600
             < 5]
    assert statistics.median(night) > 3 * ours           # the care team sleeps


def test_spike_injection_raises_the_negative_share():
    def negative_share(posts, brand="acme"):
        about = [p for p in posts if p["brand"] == brand and not p["in_reply_to"]]
        return sum(p["sentiment"] < -0.3 for p in about) / len(about), len(about)

    calm = SimulatorSource(seed=8, start=START, rate=30)
    calm.generate_until(START + 10 * 3600)
    calm_window = calm.generate_until(START + 10.5 * 3600)
    crisis = SimulatorSource(seed=8, start=START, rate=30)
    before = crisis.generate_until(START + 10 * 3600)
    spike = crisis.inject_spike("negative", "acme", minutes=30, factor=8, terms=["outage"])
    assert spike["start"] == START + 10 * 3600 and spike["terms"] == ["outage"]
    window = crisis.generate_until(START + 10.5 * 3600)

    share_calm, n_calm = negative_share(calm_window)
    share_spike, n_spike = negative_share(window)
    assert n_spike > 4 * n_calm                          # volume
    assert share_spike > 0.6 > 2 * share_calm            # tone
    assert negative_share(before[-300:])[0] < 0.3
    assert sum("outage" in p["hashtags"] and "outage" in p["text"] for p in window) > 100
    assert negative_share(window, "globex")[1] < n_calm  # other brands carry on as usual
    with pytest.raises(WallError, match="unknown brand 'hooli'"):
        crisis.inject_spike(brand="hooli")


def test_simulator_thread_runs_simulated_hours_by_its_clock(sources):
    fake = [100.0]
    source = parse_source_spec("simulator?seed=3&rate=60&speed=3600", clock=lambda: fake[0])
    source.tick = 0.01
    sources.append(source)
    got = Collector()
    source.start(got)
    wait_for(lambda: source.status()["state"] == "ok", 2, "the first poll")
    assert got.posts == []                          # no simulated time has passed yet
    fake[0] += 1.0                                  # one second: an hour simulated
    wait_for(lambda: len(got.posts) > 1000, 5, "an hour of posts")
    first = got.posts[0]["time"]
    assert max(p["time"] for p in got.posts) - first > 3000
    spike = source.inject_spike(minutes=5)
    assert spike["brand"] == "acme" and spike["start"] == pytest.approx(source.now())
    source.stop()
    assert source.status()["state"] == "stopped"


# -- webhook and the sink's health -------------------------------------------------------


def test_webhook_accepts_valid_posts_and_counts_the_rest():
    source = parse_source_spec("webhook", brands={"acme": ["acme"]}, own_accounts=["@AcmeCare"])
    assert source.push([json.loads(recorded(1, START))]) == (0, 1)      # not started yet
    got = Collector()
    source.start(got)
    accepted, rejected = source.push([
        {"id": 7, "time": "2026-11-21T10:00:00Z", "text": "Acme rocks", "handle": "acmecare"},
        {"id": "x", "time": "yesterday"},                     # no time to read
        {"id": "y", "time": time.time() + 3 * 86400},       # days ahead
        "not an object",
        {"time": START},                                     # no id
    ])
    assert (accepted, rejected) == (1, 4)
    assert got.posts == [{
        "id": "7", "time": START + 36000, "network": "webhook", "author": "", "handle": "acmecare",
        "followers": 0, "text": "Acme rocks", "language": "", "country": "", "brand": "acme",
        "hashtags": [], "urls": [], "sentiment": None, "in_reply_to": "", "own": True,
    }]
    status = source.status()
    # five of six dropped: working, but not well
    assert (status["state"], status["ingested"], status["dropped"]) == ("warning", 1, 5)
    source.stop()
    assert source.push([json.loads(recorded(2, START))]) == (0, 1)


def test_a_failing_sink_costs_the_batch_not_the_source(recording, sources):
    def broken(batch, rejected):
        raise RuntimeError("aggregator bug")

    source = ReplaySource(recording, speed=0, batch=1)
    sources.append(source)
    source.start(broken)
    wait_for(lambda: source.status()["state"] == "stopped", 3, "the end of the file")
    status = source.status()
    assert status["ingested"] == 0 and status["dropped"] == 3 + 4
    assert "aggregator bug" in status["last_error"]


def test_a_body_that_did_not_parse_is_fetched_again_not_revalidated(service, tmp_path):
    """The ETag of an unreadable answer is not kept, else the server says 304 forever."""
    fixed = {"broken": True}

    def api(request: Request) -> Answer:
        if request.headers.get("If-None-Match") == '"v1"':
            return Answer(304, b"", {"ETag": '"v1"'})
        body = "{not json" if fixed["broken"] else {"data": {"posts": [forum_post(1)]}}
        return Answer(200, body, {"ETag": '"v1"'})

    service.routes["/v1/mentions"] = api
    (tmp_path / "forum.yaml").write_text(MAPPING)
    source = parse_source_spec(f"http:{service.url('/v1/mentions')}?mapping={tmp_path}/forum.yaml")
    got = Collector()
    source.attach(got)
    with pytest.raises(SourceError, match="malformed JSON"):
        source.poll()
    fixed["broken"] = False              # the same document, served whole again, now reads
    source.poll()
    assert "If-None-Match" not in service.requests[-1].headers
    assert [p["id"] for p in got.posts] == ["1"]


def test_posts_the_sink_refused_are_offered_again(service, tmp_path):
    """Ids are remembered as seen only once the sink took them."""
    api = JsonApi()
    api.posts = [forum_post(1)]
    service.routes["/v1/mentions"] = api
    (tmp_path / "forum.yaml").write_text(MAPPING)
    source = parse_source_spec(f"http:{service.url('/v1/mentions')}?mapping={tmp_path}/forum.yaml")
    taken: list = []

    def refuses_once(batch, rejected=0):
        if not taken:
            taken.append(None)
            raise RuntimeError("store busy")
        taken.extend(batch.id)

    source.attach(refuses_once)
    source.poll()
    api.posts.append(forum_post(2))
    source.poll()
    assert sorted(taken[1:]) == ["1", "2"]


def test_a_retried_webhook_push_counts_once():
    source = parse_source_spec("webhook", brands={"acme": ["acme"]})
    got = Collector()
    source.start(got)
    batch = [{"id": "p1", "time": START, "text": "Acme"}, {"id": "p2", "time": START, "text": "x"}]
    assert source.push(batch) == (2, 0)
    assert source.push(batch + [{"id": "p3", "time": START, "text": "y"}]) == (3, 0)
    assert [p["id"] for p in got.posts] == ["p1", "p2", "p3"]
    assert source.status()["ingested"] == 3
