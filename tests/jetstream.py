"""A local server speaking Jetstream's `/subscribe` protocol, and recorded-format events for it.

Real WebSockets (the `websockets` package) on 127.0.0.1: the server honours
`wantedCollections` and an inclusive `cursor` (`time_us`), as Jetstream
does, sends each event as one JSON text frame, and can cut the first
connection mid-stream without a close frame. Frames that are not events
(malformed ones) travel at the position of the event before them. The
benchmark runs it as a process: `python tests/jetstream.py FRAMES.jsonl`
prints its port and serves until killed.
"""

from __future__ import annotations

import json
import random
import socket
import sys
import threading
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import serve

START_US = 1_795_254_000_000_000         # 2026-11-21 09:40 UTC, in microseconds


class Jetstream:
    """Serves `frames` (JSON text) to every connection from its cursor on.

    Args:
        frames: the recorded stream, oldest first.
        cut_after: the first connection is cut (no close frame) after this many frames.
    """

    def __init__(self, frames: list[str], cut_after: int | None = None):
        self.frames = []
        position, collection = 0, None
        for frame in frames:
            try:
                event = json.loads(frame)
            except ValueError:
                event = None
            if isinstance(event, dict) and isinstance(event.get("time_us"), int):
                position = event["time_us"]
                collection = (event.get("commit") or {}).get("collection")
            # else malformed: sent where it was recorded
            self.frames.append((frame, position, collection))
        self.cut_after = cut_after
        self.queries: list[dict[str, list[str]]] = []
        self.server = serve(self._serve, "127.0.0.1", 0, compression=None)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/subscribe"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _serve(self, connection) -> None:
        query = parse_qs(urlsplit(connection.request.path).query)
        self.queries.append(query)
        first = len(self.queries) == 1
        cursor = int(query["cursor"][0]) if "cursor" in query else None
        wanted = set(query.get("wantedCollections", []))
        sent = 0
        try:
            for frame, position, collection in self.frames:
                if cursor is not None and position < cursor:
                    continue
                if wanted and collection is not None and collection not in wanted:
                    continue
                connection.send(frame)
                sent += 1
                if first and sent == self.cut_after:
                    connection.socket.shutdown(socket.SHUT_RDWR)
                    return
            for _ in connection:          # idle, as a quiet firehose, until the client leaves
                pass
        except (ConnectionClosed, OSError):
            pass

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


def post_event(i: int, text: str, *, tags=(), links=(), did: str | None = None,
               langs=("en",), reply_to: str | None = None, embed: str | None = None) -> dict:
    """A commit event creating an `app.bsky.feed.post`, as Jetstream's v1 JSON writes it."""
    record: dict = {"$type": "app.bsky.feed.post", "createdAt": "2026-11-21T09:40:00.000Z",
                    "langs": list(langs), "text": text}
    facets = []
    encoded = text.encode()
    for tag in tags:
        start = encoded.find(f"#{tag}".encode())
        facets.append({"$type": "app.bsky.richtext.facet",
                       "index": {"byteStart": start, "byteEnd": start + len(tag) + 1},
                       "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}]})
    for link in links:
        start = max(0, encoded.find(link.encode()))
        facets.append({"index": {"byteStart": start, "byteEnd": start + len(link)},
                       "features": [{"$type": "app.bsky.richtext.facet#link", "uri": link}]})
    if facets:
        record["facets"] = facets
    if reply_to:
        ref = {"cid": "bafyreiaparent", "uri": reply_to}
        record["reply"] = {"parent": ref, "root": ref}
    if embed:
        record["embed"] = {"$type": "app.bsky.embed.external",
                           "external": {"uri": embed, "title": "", "description": ""}}
    return {"did": did or f"did:plc:author{i % 37:04d}", "time_us": START_US + 1000 * i,
            "kind": "commit",
            "commit": {"rev": f"3l3qo2vut{i:05d}", "operation": "create",
                       "collection": "app.bsky.feed.post", "rkey": f"3l3qo2v{i:06d}",
                       "cid": f"bafyreid{i:08d}", "record": record}}


def recorded_stream(n: int, seed: int = 15) -> list[dict]:
    """A mixed firehose: posts about brands and not, likes, deletes, identity and account events."""
    rnd = random.Random(seed)
    texts = ["just got the new Acme Box!", "Globex support is slow today",
             "what a sunset over the bay", "coffee first, then code",
             "is anyone else's Acme hub offline? #AcmeDown", "reading about #SmartHome gear",
             "la caixa da Acme chegou", "Initech layoffs again"]
    events = []
    for i in range(n):
        roll = rnd.random()
        if roll < 0.7:
            text = rnd.choice(texts)
            tags = [w[1:].rstrip("?!") for w in text.split() if w.startswith("#")]
            events.append(post_event(i, text, tags=tags,
                                     links=["https://acme.example/box"] if i % 5 == 0 else (),
                                     langs=rnd.choice([("en",), ("en",), ("pt-BR",), ()])))
        elif roll < 0.85:
            events.append({"did": f"did:plc:liker{i % 50:04d}", "time_us": START_US + 1000 * i,
                           "kind": "commit", "commit": {
                               "rev": "3l3qo2vutsw2b", "operation": "create",
                               "collection": "app.bsky.feed.like", "rkey": f"3lk{i:06d}",
                               "cid": "bafyreidlike", "record": {
                                   "$type": "app.bsky.feed.like",
                                   "createdAt": "2026-11-21T09:40:00.000Z",
                                   "subject": {"cid": "bafyreidc6", "uri": "at://x/y/z"}}}})
        elif roll < 0.92:
            events.append({"did": f"did:plc:author{i % 37:04d}", "time_us": START_US + 1000 * i,
                           "kind": "commit", "commit": {
                               "rev": "3l3qo2vutsw2c", "operation": "delete",
                               "collection": "app.bsky.feed.post", "rkey": f"3l3qo2v{i:06d}"}})
        else:
            events.append({"did": f"did:plc:author{i % 37:04d}", "time_us": START_US + 1000 * i,
                           "kind": rnd.choice(["identity", "account"]),
                           "identity": {"did": f"did:plc:author{i % 37:04d}",
                                        "handle": f"author{i % 37}.bsky.social",
                                        "seq": 1409752997, "time": "2026-11-21T09:40:00Z"}})
    return events


if __name__ == "__main__":
    with open(sys.argv[1]) as lines:
        stream = Jetstream([line.rstrip("\n") for line in lines])
    print(stream.url.split(":")[2].split("/")[0], flush=True)
    threading.Event().wait()
