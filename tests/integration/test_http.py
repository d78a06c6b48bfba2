"""The controller's HTTP API: a real Controller loop in a thread, real HTTP with `requests`.

No renderer is connected, so a switch commits as soon as the controller's loop
picks it up (there is nobody to wait for) and activates about COMMIT_LEAD_S later.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import pytest
import requests
from conftest import wait_for
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair
from controller.http import MAX_BODY_BYTES, HttpApi, resolve_token, start_http_api
from controller.node import Controller
from wallrenderer.cli import build_parser
from wallrenderer.core.client import http_call
from wallrenderer.core.errors import WallError

TOKEN = "test-token-0123456789"
SCENARIOS = {
    "testcard": {"scenario": {"name": "testcard", "widgets": [{"kind": "testcard"}]}},
    "other": {"scenario": {"name": "other", "widgets": [{"kind": "rect", "rect": [0, 0, 1, 1]}]}},
}
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def controller():
    """A controller serving its loop in a thread until the test ends."""
    ctl = Controller(SMALL_GRID_WALL, SCENARIOS, "testcard", ["r0c0"],
                     bind=f"127.0.0.1:{free_port_pair()}")
    stop = threading.Event()
    loop = threading.Thread(target=ctl.run, args=(stop.is_set,), name="controller", daemon=True)
    loop.start()
    yield ctl
    stop.set()
    loop.join(timeout=5)
    assert not loop.is_alive(), "the controller loop did not stop"
    ctl.close()


@pytest.fixture
def api(controller):
    """The HTTP API of that controller on a free loopback port (closed before the controller)."""
    http_api = HttpApi(controller, "127.0.0.1", 0, TOKEN)
    http_api.start()
    yield http_api
    http_api.close()


def switch(api, body=None, headers=None, data=None):
    return requests.post(f"{api.url}/api/scenario", json=body, data=data, headers=headers,
                         timeout=10)


def status(api) -> dict:
    answer = requests.get(f"{api.url}/api/status", timeout=10)
    assert answer.status_code == 200
    return answer.json()


def test_scenarios_lists_sorted_names_and_the_active_one(api):
    answer = requests.get(f"{api.url}/api/scenarios", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert answer.json() == {
        "scenarios": [{"name": "other", "thumbnail": None},
                      {"name": "testcard", "thumbnail": None}],
        "active": "testcard",
    }


def test_switch_without_token_is_401_and_changes_nothing(api):
    answer = switch(api, {"name": "other"})
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in answer.json()["error"]
    # Not Bearer credentials at all is the same as none.
    assert switch(api, {"name": "other"}, {"Authorization": f"Basic {TOKEN}"}).status_code == 401
    now = status(api)
    assert now["scenario"] == "testcard" and now["switching_to"] is None


def test_switch_with_wrong_token_is_403_and_changes_nothing(api):
    answer = switch(api, {"name": "other"}, {"Authorization": "Bearer not-the-token"})
    assert answer.status_code == 403
    assert answer.json() == {"error": "wrong token"}
    now = status(api)
    assert now["scenario"] == "testcard" and now["switching_to"] is None


def test_switch_with_token_answers_when_it_activates_and_status_follows(api):
    requested = time.time()
    answer = switch(api, {"name": "other"}, AUTH)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["name"] == "other"
    assert result["acknowledged"] == [] and result["not_acknowledged"] == []
    assert isinstance(result["tick"], int)
    assert requested <= result["activates_at"] <= requested + 0.6
    time.sleep(max(0.0, result["activates_at"] - time.time()))
    wait_for(lambda: status(api)["scenario"] == "other", 2,
             "the status to show the new scenario once its activation time passed")
    listing = requests.get(f"{api.url}/api/scenarios", timeout=10).json()
    assert listing["active"] == "other"


def test_switch_to_unknown_scenario_is_404(api):
    answer = switch(api, {"name": "nope"}, AUTH)
    assert answer.status_code == 404
    assert "nope" in answer.json()["error"]
    assert status(api)["scenario"] == "testcard"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ("{not json", "not valid JSON"),
        ("", "missing JSON body"),
        ('["other"]', "JSON object"),
        ('{"scenario": "other"}', 'missing "name"'),
        ('{"name": 3}', "non-empty string"),
        ('{"name": NaN}', "not valid JSON"),
    ],
)
def test_bad_switch_bodies_are_400_saying_what_is_wrong(api, data, says):
    answer = switch(api, data=data, headers={**AUTH, "Content-Type": "application/json"})
    assert answer.status_code == 400
    assert says in answer.json()["error"]


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 32 * MAX_BODY_BYTES])
def test_oversized_body_is_413(api, size):
    big = json.dumps({"name": "other", "pad": "x" * size})
    answer = switch(api, data=big, headers=AUTH)
    assert answer.status_code == 413
    assert str(MAX_BODY_BYTES) in answer.json()["error"]
    assert status(api)["scenario"] == "testcard"


@pytest.mark.parametrize("path", ["/api/nope", "/api/scenarios/other", "/index.html",
                                  "/static/nope.js", "/static/..%2fapp.py"])
def test_unknown_path_is_404_json(api, path):
    answer = requests.get(f"{api.url}{path}", timeout=10)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    assert requests.utils.unquote(path) in answer.json()["error"]


def test_wrong_method_is_405_with_allow(api):
    answer = requests.get(f"{api.url}/api/scenario", timeout=10)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "POST"
    assert "POST" in answer.json()["error"]
    answer = requests.post(f"{api.url}/api/status", json={}, headers=AUTH, timeout=10)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET, HEAD"
    assert requests.delete(f"{api.url}/api/scenarios", timeout=10).status_code == 405


def raw_request(api, data: bytes) -> tuple[str, dict]:
    """Send bytes as they are; the status line and the JSON body of the answer."""
    with socket.create_connection(("127.0.0.1", api.port), timeout=5) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), json.loads(body)


def test_malformed_requests_get_json_errors_too(api):
    status_line, body = raw_request(api, b"GET /api/health HTTP/1.1\r\nContent-Length: -3\r\n\r\n")
    assert status_line.startswith("HTTP/1.1 400") and "Content-Length" in body["error"]
    status_line, body = raw_request(api, b"POST /api/scenario HTTP/1.1\r\nHost: wall\r\n"
                                         b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert status_line.startswith("HTTP/1.1 411"), body
    status_line, body = raw_request(api, b"BREW /api/health HTTP/1.1\r\nHost: wall\r\n\r\n")
    assert status_line.startswith("HTTP/1.1 501") and "BREW" in body["error"]
    status_line, body = raw_request(api, b"GET /api/health HTTP/1.1\r\n\r\n")
    assert status_line.startswith("HTTP/1.1 400") and "Host" in body["error"]


def test_health_is_503_naming_renderers_that_are_not_connected(api):
    answer = requests.get(f"{api.url}/api/health", timeout=10)
    assert answer.status_code == 503
    assert answer.json()["ok"] is False
    assert "renderer r0c0 missing" in answer.json()["reasons"]
    now = status(api)
    assert now["scenario"] == "testcard"
    assert [r["id"] for r in now["renderers"]] == ["r0c0"]
    assert now["renderers"][0]["connected"] is False
    assert now["sources"] == []


def test_keep_alive_connection_survives_errors_and_close_does_not_wait_for_it(api, capsys,
                                                                               caplog):
    caplog.set_level(logging.DEBUG, logger="controller.http")
    with requests.Session() as session:
        # An ignored body on a GET, then an error, then a POST: all on one connection.
        assert session.get(f"{api.url}/api/status", data="x" * 1000, timeout=10).ok
        assert session.get(f"{api.url}/api/nope", timeout=10).status_code == 404
        assert session.post(f"{api.url}/api/scenario", json={"name": "nope"}, headers=AUTH,
                            timeout=10).status_code == 404
        assert session.get(f"{api.url}/api/status", timeout=10).json()["scenario"] == "testcard"
        started = time.monotonic()
        api.close()  # the session's connection is still open and idle
        assert time.monotonic() - started < 2
        api.close()  # twice is fine
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{api.url}/api/status", timeout=2)
    assert capsys.readouterr().err == "", "requests are logged through logging, not stderr"
    assert any("/api/status" in r.getMessage() and r.levelno == logging.DEBUG
               for r in caplog.records if r.name == "controller.http")
    changes = [r.getMessage() for r in caplog.records
               if r.name == "controller.http" and r.levelno == logging.INFO]
    assert any(m.startswith("127.0.0.1 POST /api/scenario -> 404") for m in changes), \
        "the access log names the client of a change at INFO"
    assert not any("GET /api/status" in m for m in changes), "reads stay at DEBUG"


@pytest.fixture
def stalled_api():
    """An API whose controller never runs its loop: nothing it is asked ever completes."""
    ctl = Controller(SMALL_GRID_WALL, SCENARIOS, "testcard", ["r0c0"],
                     bind=f"127.0.0.1:{free_port_pair()}")
    http_api = HttpApi(ctl, "127.0.0.1", 0, TOKEN)
    http_api.start()
    yield http_api
    http_api.close()
    ctl.close()


def test_a_controller_that_does_not_answer_gives_504(stalled_api, monkeypatch):
    stalled_api.timeout_s = 0.3
    answer = requests.get(f"{stalled_api.url}/api/status", timeout=10)
    assert answer.status_code == 504
    assert "did not answer" in answer.json()["error"]
    answer = switch(stalled_api, {"name": "other"}, AUTH)
    assert answer.status_code == 504
    assert "may still take effect" in answer.json()["error"]
    health = requests.get(f"{stalled_api.url}/api/health", timeout=10)
    assert health.status_code == 503 and "controller loop" in health.json()["error"]


def test_close_answers_waiting_requests_with_503_at_once(stalled_api):
    answers = []
    waiting = threading.Thread(
        target=lambda: answers.append(switch(stalled_api, {"name": "other"}, AUTH)))
    waiting.start()
    wait_for(lambda: not stalled_api.controller._calls.empty(), 10,
             "the request to wait on the controller")
    started = time.monotonic()
    stalled_api.close()
    waiting.join(timeout=5)
    assert time.monotonic() - started < 1
    assert answers[0].status_code == 503


def test_resolve_token_prefers_cli_then_env_then_generates(monkeypatch):
    monkeypatch.setenv("WALL_TOKEN", "from-env")
    assert resolve_token("from-cli") == ("from-cli", False)
    assert resolve_token(None) == ("from-env", False)
    monkeypatch.delenv("WALL_TOKEN")
    token, generated = resolve_token(None)
    assert generated and len(token) >= 24
    assert resolve_token(None)[0] != token
    monkeypatch.setenv("WALL_TOKEN", "")
    assert resolve_token("")[1], "empty tokens count as not given"


def test_start_http_api_prints_a_generated_token_that_works(controller, monkeypatch, capsys):
    monkeypatch.delenv("WALL_TOKEN", raising=False)
    api = start_http_api(controller, f"127.0.0.1:{free_port_pair()}", None)
    try:
        out = capsys.readouterr().out
        assert api.token in out
        status_code, answer = http_call(api.url, "POST", "/api/scenario", {"name": "other"},
                                        token=api.token)
        assert status_code == 200 and answer["name"] == "other"
    finally:
        api.close()


def test_http_call_to_a_closed_port_raises_wall_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(WallError, match="cannot reach the controller's HTTP API"):
        http_call(f"127.0.0.1:{port}", "GET", "/api/health", timeout=2)


def wall_switch(argv: list[str]) -> int:
    args = build_parser().parse_args(["switch", *argv])
    return args.run(args)


def test_wall_switch_prints_the_tick_and_controller_time(api, capsys):
    assert wall_switch(["other", "--http", f"127.0.0.1:{api.port}", "--token", TOKEN]) == 0
    out = capsys.readouterr().out
    assert out.startswith("switched to other at tick ")
    assert out.rstrip().endswith(" controller time)")


def test_wall_switch_takes_the_token_from_the_environment_and_reports_errors(
    api, capsys, monkeypatch
):
    monkeypatch.setenv("WALL_TOKEN", TOKEN)
    assert wall_switch(["nope", "--http", api.url]) == 1
    assert "no scenario 'nope'" in capsys.readouterr().err
    monkeypatch.setenv("WALL_TOKEN", "wrong")
    assert wall_switch(["other", "--http", api.url]) == 1
    assert "wrong token (HTTP 403)" in capsys.readouterr().err
    monkeypatch.delenv("WALL_TOKEN")
    assert wall_switch(["other", "--http", api.url]) == 1
    assert "no token" in capsys.readouterr().err
    assert status(api)["scenario"] == "testcard"

