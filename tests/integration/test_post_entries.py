"""One post schema: every entry gives the same posts and the same rejections for the same records.

The entries: `replay:` file lines (the controller's raw fast path through
`parse_lines`, and the replay source decoding lines itself), the HTTP source
polling a real local server with the default mapping, the webhook, and the
columnar `parse_lines` / `from_dicts` directly. Each fills an empty `network`
with its own kind, as docs/posts.md says; nothing else may differ.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from controller.postbatch import PostBatch
from controller.posts import from_dicts, parse_lines
from controller.sources.http import HttpSource
from controller.sources.replay import ReplaySource
from controller.sources.webhook import WebhookSource

T = 1_700_000_000.0
text = st.text(max_size=8)
GOOD = {
    "time": st.floats(1e9, 1.7e9) | st.integers(10**9, 17 * 10**8)
    | st.integers(10**12, 17 * 10**11) | st.sampled_from(
        ["2024-05-01T12:00:00Z", "2024-05-01 14:00:00+02:00", "Wed, 01 May 2024 12:00:00 GMT",
         "1714564800"]),
    "network": st.sampled_from(["x", "mastodon", "", None]), "author": text | st.none(),
    "handle": text, "followers": st.integers(0, 2**40) | st.none(), "text": text,
    "language": st.sampled_from(["en", "pt-BR", "zh-Hant-TW", "", None]),
    "country": st.sampled_from(["FR", "us", "", None]), "brand": st.sampled_from(["acme", ""]),
    "hashtags": st.lists(st.sampled_from(["#Acme", "fail", "#", "", "ok"]), max_size=3),
    "urls": st.lists(text, max_size=2) | st.none(),
    "sentiment": st.none() | st.floats(-1, 1) | st.integers(-1, 1),
    "in_reply_to": text | st.integers(0, 10**6) | st.none(), "own": st.booleans() | st.none(),
}
BAD = {
    "id": st.sampled_from(["", 1.5, True, None, [1], {"a": 1}]),
    "time": st.sampled_from(["yesterday", "", True, -5.0, 1.7e15, 4e9, None, [T]]),
    "network": st.sampled_from([5, ["x"]]), "author": st.sampled_from([1, False]),
    "followers": st.sampled_from([-1, 1.5, "10", True, 2**63]),
    "language": st.sampled_from(["english!", 5, "e"]),
    "country": st.sampled_from(["FRA", "F1", 33]), "hashtags": st.sampled_from(["tag", [1]]),
    "urls": st.sampled_from([["ok", None], "u"]),
    "sentiment": st.sampled_from([1.5, -1.01, "0.5", True]),
    "in_reply_to": st.sampled_from([1.5, False, ["a"]]), "own": st.sampled_from(["yes", 1, 0]),
}


@st.composite
def records(draw) -> list:
    """Good records with some fields left out, some with one bad field, and a few non-objects."""
    out = []
    for i in range(draw(st.integers(0, 12))):
        if draw(st.integers(0, 15)) == 0:
            out.append(draw(st.sampled_from([7, "text", [1, 2], None])))
            continue
        record = {"id": draw(st.sampled_from([f"p{i}", i + 1000]))}
        for name in draw(st.sets(st.sampled_from(sorted(GOOD)))) | {"time"}:
            record[name] = draw(GOOD[name])
        if draw(st.booleans()):
            name = draw(st.sampled_from(sorted(BAD)))
            value = draw(BAD[name])
            if value is None:
                record.pop(name, None)
            else:
                record[name] = value
        out.append(record)
    return out


class Answer(BaseHTTPRequestHandler):
    """Answers every GET with the server's current body, as a JSON API would."""

    def do_GET(self):  # noqa: N802 (the standard library's name)
        body = self.server.body
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    httpd.body = b"[]"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


class Sink:
    """Keeps what a source hands over: valid posts by id, and the rejected count."""

    def __init__(self, network: str):
        self.network = network
        self.posts: dict[str, dict] = {}
        self.rejected = 0

    def __call__(self, batch: PostBatch, rejected: int) -> None:
        self.posts.update(_by_id(batch, self.network))
        self.rejected += rejected


def _by_id(batch: PostBatch, network: str = "") -> dict[str, dict]:
    """Posts by id, with the network an entry filled in put back to empty for comparison."""
    out = {}
    for post in batch.posts():
        record = post.to_dict()
        if record["network"] == network:
            record["network"] = ""
        out[record["id"]] = record
    return out


def _json_line(record) -> bytes:
    return json.dumps(record).encode()  # the standard library writes any int


@settings(max_examples=70, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(batch=records())
def test_every_entry_gives_the_same_posts_and_rejections(batch, server, tmp_path):
    lines = [_json_line(record) for record in batch]
    expected_batch, expected_rejected = parse_lines(lines)
    expected = _by_id(expected_batch)

    assert (_by_id(from_dicts(batch)[0]), from_dicts(batch)[1]) == (expected, expected_rejected)

    path = tmp_path / "posts.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    raw_lines: list[bytes] = []
    fast = ReplaySource(path, speed=0)
    fast.attach(Sink("replay"), raw_sink=raw_lines.extend)
    while fast.poll() is not None:
        pass
    raw_batch, raw_rejected = parse_lines(raw_lines, fast.fill)
    assert (_by_id(raw_batch, "replay"), raw_rejected) == (expected, expected_rejected)

    decoded = Sink("replay")
    slow = ReplaySource(path, speed=0)
    slow.attach(decoded)
    while slow.poll() is not None:
        pass
    assert decoded.posts == expected   # lines without a readable time it drops itself
    assert slow.status()["dropped"] == expected_rejected

    server.body = json.dumps(batch).encode()
    polled = Sink("http")
    http = HttpSource(f"http://127.0.0.1:{server.server_port}/posts")
    http.attach(polled)
    try:
        http.poll()
    finally:
        http.close()
    assert polled.posts == expected
    assert http.status()["dropped"] == expected_rejected

    pushed = Sink("webhook")
    webhook = WebhookSource()
    webhook.start(pushed)
    assert webhook.push(batch) == (len(expected), expected_rejected)
    assert pushed.posts == expected
