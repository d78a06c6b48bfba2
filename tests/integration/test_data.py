"""The controller's data path end to end: sources -> aggregates -> data frames -> snapshot."""

from __future__ import annotations

import json
import socket
import threading
import time

import numpy as np
import pytest
import requests
import zmq
from conftest import wait_for, wall_command, write_yaml
from PIL import Image
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair
from wallrenderer.core.address import endpoints
from wallrenderer.core.client import control_request
from wallrenderer.core.protocol import Message

TOKEN = "t"


def snapshot(connect: str) -> dict | None:
    """What a renderer joining now would get."""
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        sock.connect(endpoints(connect)[1])
        sock.send_multipart(Message("hello", {"display": "probe"}).encode())
        if not sock.poll(2000):
            return None
        return Message.decode(sock.recv_multipart()).body
    finally:
        sock.close()


def day_volume(body: dict | None, brand: str) -> int | None:
    """Mentions of a brand over 24 h in a snapshot's data frame."""
    volume = ((body or {}).get("data") or {}).get("volume") or {}
    return (volume.get("by_brand") or {}).get(brand, {}).get("24h")


def api_status(http: int) -> dict | None:
    try:
        return requests.get(f"http://127.0.0.1:{http}/api/status", timeout=2).json()
    except requests.RequestException:
        return None


def write_posts(path, now: float) -> dict[str, int]:
    brands = {"acme": 7, "globex": 3}
    lines = []
    for brand, count in brands.items():
        for i in range(count):
            lines.append(json.dumps({
                "id": f"{brand}-{i}", "time": now - 60 * i - 30, "network": "test",
                "author": f"A {i}", "handle": f"user{i}", "followers": 100 * i,
                "text": f"I like {brand} #launch", "language": "en", "country": "FR",
                "brand": brand, "hashtags": ["launch"], "urls": [], "sentiment": 0.5,
                "in_reply_to": "", "own": False,
            }))
    lines.append("{not json")
    path.write_text("\n".join(lines) + "\n")
    return brands


def kpi(value: str) -> dict:
    return {"kind": "kpi", "cells": "r0c0", "label": value, "value": value}


# Frames carry only what the shown scenario draws: these widgets read volume and totals.
VOLUME_SCENARIO = {"scenario": {"name": "volume", "widgets": [
    kpi("volume.by_brand.acme.24h"), kpi("totals.rejected")]}}


def start_controller(spawn, tmp_path, sources, store):
    wall = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    write_yaml(tmp_path / "scenarios" / "volume.yaml", VOLUME_SCENARIO)
    connect, http = f"127.0.0.1:{free_port_pair()}", free_port_pair()
    argv = ["controller", "--wall", str(wall), "--bind", connect, "--http",
            f"127.0.0.1:{http}", "--token", TOKEN, "--store", str(store),
            "--brands", "acme,globex", "--scenarios", str(tmp_path / "scenarios"),
            "--scenario", "volume"]
    for spec in sources:
        argv += ["--source", spec]
    return spawn(wall_command(*argv)), connect, http


def test_replayed_posts_become_data_frames_that_survive_a_restart(tmp_path, spawn):
    posts = tmp_path / "posts.jsonl"
    expected = write_posts(posts, time.time())
    store = tmp_path / "state.sqlite"
    first, connect, http = start_controller(spawn, tmp_path, [f"replay:{posts}?speed=0"], store)

    def counted(connect=connect):
        body = snapshot(connect)
        return body if day_volume(body, "acme") == expected["acme"] else None

    body = wait_for(counted, 60, "the replayed posts in the snapshot's data")
    assert day_volume(body, "globex") == expected["globex"]
    assert body["data"]["totals"]["rejected"] == 1
    assert "terms" not in body["data"] and "feed" not in body["data"], "no widget draws them"
    status = wait_for(lambda: api_status(http), 30, "the HTTP status")
    replay = next(s for s in status["sources"] if s["name"].startswith("replay"))
    assert replay["state"] in ("ok", "stopped") and replay["dropped"] == 1

    first.terminate()
    first.wait(timeout=20)
    _, connect2, _ = start_controller(spawn, tmp_path, ["webhook"], store)
    wait_for(lambda: counted(connect2), 60, "aggregates restored after a restart")


@pytest.fixture
def hanging_server():
    """A TCP port that accepts connections and never answers: a source stuck mid-request."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    server.close()
    for conn in held:
        conn.close()


def test_a_source_stuck_mid_request_does_not_cost_the_last_save_on_stop(
    tmp_path, spawn, hanging_server
):
    posts = tmp_path / "posts.jsonl"
    expected = write_posts(posts, time.time())
    store = tmp_path / "state.sqlite"
    stuck = f"http:http://127.0.0.1:{hanging_server}/posts?interval=0.5&timeout=20"
    first, connect, _ = start_controller(spawn, tmp_path, [stuck, f"replay:{posts}?speed=0"],
                                         store)
    wait_for(lambda: day_volume(snapshot(connect), "acme") == expected["acme"], 60,
             "the replayed posts counted")
    first.terminate()
    assert first.wait(timeout=20) == 0, "a clean stop, not one the watchdog had to force"
    _, connect2, _ = start_controller(spawn, tmp_path, ["webhook"], store)
    wait_for(lambda: day_volume(snapshot(connect2), "acme") == expected["acme"], 60,
             "aggregates saved on stop and restored")


def test_a_dead_source_is_degraded_on_the_status_and_the_rest_goes_on(tmp_path, spawn):
    dead = f"http://127.0.0.1:{free_port_pair()}/posts"
    _, connect, http = start_controller(
        spawn, tmp_path, [f"http:{dead}?interval=0.5", "webhook"], tmp_path / "s.sqlite")
    status = wait_for(
        lambda: (s := api_status(http)) and any(x["state"] == "degraded" for x in s["sources"])
        and s, 30, "the dead source to show as degraded")
    assert {x["name"]: x["state"] for x in status["sources"]}.get("webhook") in ("ok", "starting")
    spawn(wall_command("renderer", "--connect", connect, "--display", "r0c0"))
    wait_for(lambda: (s := api_status(http)) and s["renderers"][0].get("synced"), 60, "renderer")
    shot = control_request(connect, "capture", {"dir": str(tmp_path / "shot")}, timeout_s=30)
    image = np.asarray(Image.open(shot["paths"]["r0c0"]).convert("RGB")).astype(int)
    amber = (image[..., 0] > 200) & (image[..., 1] > 140) & (image[..., 2] < 140)
    h, w = amber.shape
    assert amber[int(h * 0.93):, int(w * 0.6):].sum() > 20, "the status line names the source"
    assert amber[: int(h * 0.07), int(w * 0.6):].sum() == 0
    answer = requests.post(
        f"http://127.0.0.1:{http}/api/ingest", headers={"Authorization": f"Bearer {TOKEN}"},
        json={"posts": [{"id": "w1", "time": time.time(), "text": "acme rocks", "brand": "acme"},
                        {"id": 7}]}, timeout=10)
    assert answer.status_code == 200
    assert (answer.json()["accepted"], answer.json()["rejected"]) == (1, 1)
    wait_for(lambda: day_volume(snapshot(connect), "acme") == 1, 30,
             "the webhook post in the aggregates")


def test_odd_request_bodies_get_400s_and_an_idle_wall_sends_no_frames(tmp_path, spawn):
    _, connect, http = start_controller(spawn, tmp_path, ["simulator?rate=0.001", "webhook"],
                                        tmp_path / "s.sqlite")
    base = f"http://127.0.0.1:{http}"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    wait_for(lambda: api_status(http), 30, "the HTTP API")
    for bad in ({"factor": 1e308}, {"factor": True}, {"minutes": -1}, {"brand": 5},
                {"terms": [1]}, {"kind": ""}):
        answer = requests.post(f"{base}/api/spike", json=bad, headers=auth, timeout=10)
        assert answer.status_code == 400, (bad, answer.text)
    odd = [{"id": "a", "time": 10 ** 400, "text": "x"}, {"id": "b", "time": time.time(),
                                                          "text": "fine", "language": "english"}]
    answer = requests.post(f"{base}/api/ingest", json={"posts": odd}, headers=auth, timeout=10)
    # the bad time drops its post; the bad language only costs the language
    assert answer.status_code == 200
    assert (answer.json()["accepted"], answer.json()["rejected"]) == (1, 1)
    seq = wait_for(lambda: (s := api_status(http)) and s["seq"], 10, "a first frame")
    time.sleep(2.0)
    assert api_status(http)["seq"] - seq <= 2, "frames must not go out when nothing changed"


def test_a_tour_cycles_scenarios_and_applies_the_stricter_feed_policy(tmp_path, spawn):
    policy = write_yaml(tmp_path / "policy.yaml", {"moderation": {"tour": {
        "block_terms": ["refund"]}}})
    scenarios = tmp_path / "scenarios"
    write_yaml(scenarios / "a.yaml", {"scenario": {"name": "a", "widgets": [
        {"kind": "testcard"}, kpi("feed.0.text")]}})
    write_yaml(scenarios / "b.yaml", {"scenario": {"name": "b", "widgets": [
        {"kind": "rect", "rect": [0, 0, 1, 1]}, kpi("feed.0.text")]}})
    wall = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    connect, http = f"127.0.0.1:{free_port_pair()}", free_port_pair()
    spawn(wall_command("controller", "--wall", str(wall), "--scenarios", str(scenarios),
                       "--bind", connect, "--http", f"127.0.0.1:{http}", "--token", TOKEN,
                       "--source", "webhook", "--store", str(tmp_path / "s.sqlite"),
                       "--moderation", str(policy)))
    base, auth = f"http://127.0.0.1:{http}", {"Authorization": f"Bearer {TOKEN}"}
    wait_for(lambda: api_status(http), 30, "the HTTP API")

    def push(post_id: str) -> None:
        post = {"id": post_id, "time": time.time(), "text": "I want a refund", "brand": "acme"}
        answer = requests.post(f"{base}/api/ingest", json={"posts": [post]}, headers=auth,
                               timeout=10)
        assert answer.json()["accepted"] == 1

    def in_feed(post_id: str) -> bool:
        feed = ((snapshot(connect) or {}).get("data") or {}).get("feed") or []
        return any(p.get("id") == post_id for p in feed)

    started = requests.post(f"{base}/api/tour/start", json={"scenarios": ["b", "a"],
                            "seconds": 1}, headers=auth, timeout=10)
    assert started.status_code == 200 and started.json()["tour"]["scenario"] == "b"
    listing = requests.get(f"{base}/api/tours", timeout=10).json()
    assert listing["tours"] == [] and listing["running"]["name"] == "adhoc", \
        "a tour of scenarios runs, but is not listed with the tour files"
    seen = set()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not {"a", "b"} <= seen:
        seen.add(api_status(http)["scenario"])
        time.sleep(0.2)
    assert {"a", "b"} <= seen, "the tour shows each of its scenarios in turn"
    push("during-tour")
    time.sleep(1.0)
    assert not in_feed("during-tour"), "the tour policy hides blocked terms from the feed"
    stopped = requests.post(f"{base}/api/tour/stop", headers=auth, timeout=10)
    assert stopped.status_code == 200 and stopped.json()["stopped"] is True
    assert api_status(http)["tour"] is None
    push("after-tour")
    wait_for(lambda: in_feed("after-tour"), 10, "the base policy to show the post again")
    bad = requests.post(f"{base}/api/tour/start", json={"scenarios": ["nope"]}, headers=auth,
                        timeout=10)
    assert bad.status_code == 404
