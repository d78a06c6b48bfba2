"""With CURVE on, a message about a renderer counts only when that renderer's key sent it.

Real processes on loopback: a CURVE controller, renderers holding their own
keys, and a relay whose key sits in the controller's `allowed/relays/`. An
operator's key (allowed in, as for `wallrenderer status`) and a renderer's key
both try to speak for a panel that is switched off; the wall must not believe
either of them, directly or through the relay.
"""

from __future__ import annotations

import shutil
import time

import pytest
import zmq
from conftest import wait_for, wall_command, write_yaml
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair
from wallrenderer.core.address import endpoints
from wallrenderer.core.client import control_request
from wallrenderer.core.protocol import Message
from wallrenderer.core.security import CurveClient, apply_client, generate_keys

FORGED_FOR_S = 3.0


def forge(connect: str, client: CurveClient, display: str) -> int:
    """Send reports and an ack naming `display` for a few seconds; how many were sent."""
    zctx = zmq.Context()
    sock = zctx.socket(zmq.DEALER)
    sock.linger = 0
    apply_client(sock, client)
    sock.connect(endpoints(connect)[1])
    sent = 0
    try:
        end = time.monotonic() + FORGED_FOR_S
        while time.monotonic() < end:
            report = {"display": display, "synced": True, "scenario": "testcard", "fps": 60.0}
            for kind, body in (("report", report), ("ack", {"display": display, "id": 1})):
                sock.send_multipart(Message(kind, body, time=time.time()).encode())
                sent += 1
            time.sleep(0.1)
    finally:
        sock.close(linger=0)
        zctx.term()
    return sent


def status_of(connect: str, client: CurveClient) -> dict:
    return control_request(connect, "status", {}, timeout_s=2.0, curve=client)


def rows(status: dict) -> dict[str, dict]:
    return {r["id"]: r for r in status["renderers"]}


def test_only_a_renderers_own_key_or_a_relay_speaks_for_it(tmp_path, spawn):
    keys = tmp_path / "keys"
    names = ["controller", "r0c0", "r1c1", "ops", "floor2"]
    files = {name: generate_keys(keys, name) for name in names}
    allowed, relay_allowed = tmp_path / "allowed", tmp_path / "relay-allowed"
    (allowed / "relays").mkdir(parents=True)
    relay_allowed.mkdir()
    for name in ("r0c0", "ops"):
        shutil.copy(files[name][0], allowed)
    shutil.copy(files["floor2"][0], allowed / "relays")
    for name in ("r1c1", "ops"):
        shutil.copy(files[name][0], relay_allowed)
    server_key = str(files["controller"][0])

    wall = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    controller, relay = (f"127.0.0.1:{free_port_pair()}" for _ in range(2))
    spawn(wall_command("controller", "--wall", str(wall), "--bind", controller,
                       "--curve-secret", str(files["controller"][1]),
                       "--curve-allow", str(allowed)))
    spawn(wall_command("relay", "--upstream", controller, "--bind", relay,
                       "--curve-secret", str(files["floor2"][1]), "--curve-server", server_key,
                       "--curve-allow", str(relay_allowed)))
    spawn(wall_command("renderer", "--connect", controller, "--display", "r0c0", "--headless",
                       "--curve-secret", str(files["r0c0"][1]), "--curve-server", server_key))
    spawn(wall_command("renderer", "--connect", relay, "--display", "r1c1", "--headless",
                       "--curve-secret", str(files["r1c1"][1]), "--curve-server",
                       str(files["floor2"][0])))
    ops = CurveClient(files["ops"][1], files["controller"][0])

    def both_up():
        try:
            found = rows(status_of(controller, ops))
        except TimeoutError:
            return None
        return all(found.get(d, {}).get("connected") and found[d].get("synced")
                   for d in ("r0c0", "r1c1"))

    wait_for(both_up, 40, "r0c0 (direct) and r1c1 (through the relay) to report")
    before = status_of(controller, ops)["dropped"]

    # The operator's key, directly and through the relay, and r0c0's own key all claim r0c1.
    sent = forge(controller, ops, "r0c1")
    sent += forge(controller, CurveClient(files["r0c0"][1], files["controller"][0]), "r0c1")
    forge(relay, CurveClient(files["ops"][1], files["floor2"][0]), "r0c1")

    # A renderer's key cannot order captures (nor recolour panels): no answer comes.
    with pytest.raises(TimeoutError):
        control_request(controller, "capture", {"dir": str(tmp_path / "shots")}, timeout_s=2,
                        curve=CurveClient(files["r0c0"][1], files["controller"][0]))
    sent += 1

    status = status_of(controller, ops)
    found = rows(status)
    assert not found.get("r0c1", {}).get("connected"), found.get("r0c1")
    assert found["r0c0"]["connected"] and found["r1c1"]["connected"]
    # The controller drops and counts what came to it; the relay drops what it could check.
    assert status["dropped"] - before >= sent, (status["dropped"], before, sent)
