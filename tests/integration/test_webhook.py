"""POST /api/ingest through the controller's real HTTP server, pipeline and webhook source.

Bodies in both documented shapes, batches of several MiB, the limit, answers
that say what was refused and why, and retries that do not count twice.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import requests
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair
from controller.http import HttpApi
from controller.node import Controller
from controller.pipeline import DataPipeline
from controller.sources.webhook import MAX_BODY_BYTES

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SCENARIOS = {"testcard": {"scenario": {"name": "testcard", "widgets": [{"kind": "testcard"}]}}}


@pytest.fixture
def ingest():
    """The URL of a controller's /api/ingest with a webhook source, and that source."""
    ctl = Controller(SMALL_GRID_WALL, SCENARIOS, "testcard", ["r0c0"],
                     bind=f"127.0.0.1:{free_port_pair()}")
    stop = threading.Event()
    loop = threading.Thread(target=ctl.run, args=(stop.is_set,), daemon=True)
    loop.start()
    pipeline = DataPipeline(["webhook"], ["acme"],
                            lambda delta: ctl.call(lambda: ctl.publish_data(delta)))
    ctl.pipeline = pipeline
    pipeline.start()
    api = HttpApi(ctl, "127.0.0.1", 0, TOKEN)
    api.start()
    yield f"{api.url}/api/ingest", pipeline.webhook
    api.close()
    pipeline.stop()
    stop.set()
    loop.join(timeout=5)
    ctl.close()


def post(i: int, **extra) -> dict:
    return {"id": f"w{i}", "time": time.time() - 60, "text": f"acme post {i} " + "x" * 120,
            "author": "Ann", "handle": f"ann{i}", "hashtags": ["acme"], **extra}


def test_a_bare_list_and_a_posts_object_are_both_taken(ingest):
    url, webhook = ingest
    answer = requests.post(url, json=[post(1), post(2)], headers=AUTH, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 2, "rejected": 0, "duplicates": 0, "reasons": []}
    answer = requests.post(url, json={"posts": [post(3)]}, headers=AUTH, timeout=10)
    assert answer.json()["accepted"] == 1
    answer = requests.post(url, json={"scenario": "x"}, headers=AUTH, timeout=10)
    assert answer.status_code == 400 and "[POST, ...] or {\"posts\"" in answer.json()["error"]
    assert webhook.status()["ingested"] == 3


def test_several_mebibytes_are_taken_and_the_answer_says_what_was_refused_and_why(ingest):
    url, webhook = ingest
    posts = [post(i) for i in range(20000)]
    posts[7] = {"id": "late", "time": "next tuesday"}
    posts[9] = {"time": time.time()}
    posts[11] = post(11, language="english!")
    body = json.dumps(posts).encode()
    assert 4 * 2**20 < len(body) < MAX_BODY_BYTES
    answer = requests.post(url, data=body, headers={**AUTH, "Content-Type": "application/json"},
                           timeout=30)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["accepted"], result["rejected"], result["duplicates"]) == (19998, 2, 0)
    assert {r["reason"]: (r["count"], r["field"], r["example"]) for r in result["reasons"]} == {
        "time: not a time after 1970 and at most a day ahead": (1, "time", "next tuesday"),
        "id: Object missing required field `id`": (1, "id", "None")}
    assert result["field_warnings"][0]["example"] == "english!"
    assert webhook.status()["ingested"] == 19998


def test_a_retried_push_is_accepted_and_counted_once(ingest):
    url, webhook = ingest
    batch = [post(1), post(2), post(2)]
    first = requests.post(url, json=batch, headers=AUTH, timeout=10).json()
    again = requests.post(url, json=batch, headers=AUTH, timeout=10).json()
    assert (first["accepted"], first["duplicates"]) == (3, 1)
    assert (again["accepted"], again["duplicates"]) == (3, 3)
    assert webhook.status()["ingested"] == 2


def test_a_body_over_the_limit_gets_413_before_it_is_read(ingest):
    url, _ = ingest
    host, port = url.split("/")[2].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"POST /api/ingest HTTP/1.1\r\nHost: {host}\r\n"
                     f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n[".encode())
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            piece = conn.recv(65536)
            if not piece:
                break
            answer += piece
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert "over the limit of 8388608 bytes" in json.loads(body)["error"]
