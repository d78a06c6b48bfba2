"""Clients of a controller: one ZeroMQ control request, one HTTP API call.

Used by the command line (`wallrenderer status`, `switch`, `demo`), scripts,
benchmarks and tests; neither needs the controller's code, only its address.
"""

from __future__ import annotations

import datetime
import time
from http import HTTPStatus

import zmq

from wallrenderer.core.address import endpoints
from wallrenderer.core.errors import WallError
from wallrenderer.core.protocol import MAX_MESSAGE_BYTES, Message, ProtocolError
from wallrenderer.core.security import apply_client

TOKEN_ENV = "WALL_TOKEN"
DEFAULT_HTTP_PORT = 8080
DEFAULT_HTTP = f"127.0.0.1:{DEFAULT_HTTP_PORT}"


def control_request(
    connect: str, kind: str, body: dict, timeout_s: float = 5.0, curve=None
) -> dict:
    """One request to a controller's ROUTER socket, as `wall status` and `wall demo` make.

    `curve` is the `CurveClient` for a controller that requires CURVE.

    Raises:
        TimeoutError: the controller did not answer in time.
    """
    _, router = endpoints(connect)
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SNDTIMEO, max(1, int(timeout_s * 1000)))
    sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
    if curve is not None:
        apply_client(sock, curve)
    try:
        sock.connect(router)
        try:
            sock.send_multipart(Message(kind, body, time=time.time()).encode())
        except zmq.Again:
            raise TimeoutError(f"controller at {router} not reachable for {kind!r}") from None
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            if sock.poll(int(left * 1000) + 1):
                try:
                    msg = Message.decode(sock.recv_multipart())
                except ProtocolError:
                    continue
                if msg.kind == "reply":
                    return msg.body
        raise TimeoutError(f"controller at {router} did not answer {kind!r} in {timeout_s:g} s")
    finally:
        sock.close(linger=0)


def normalize_base_url(address: str) -> str:
    """``HOST:PORT`` or a full ``http(s)://`` URL as a base URL without trailing slash."""
    address = address.strip().rstrip("/")
    return address if "://" in address else f"http://{address}"


def http_call(
    base_url: str,
    method: str,
    path: str,
    body: dict | None = None,
    token: str | None = None,
    timeout: float = 10,
) -> tuple[int, dict]:
    """One request to the controller's HTTP API: its status code and JSON answer.

    An answer that is not a JSON object comes back as ``{"error": <start of the text>}``.

    Raises:
        WallError: the server cannot be reached or does not answer within `timeout` s.
    """
    import requests

    url = normalize_base_url(base_url) + path
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = requests.request(method, url, json=body, headers=headers, timeout=timeout)
    except requests.exceptions.Timeout:
        raise WallError(f"no answer from the controller's HTTP API at {url} "
                        f"within {timeout:g} s") from None
    except requests.exceptions.ConnectionError as exc:
        reason = "connection refused" if _refused(exc) else _short(exc)
        raise WallError(f"cannot reach the controller's HTTP API at {url} ({reason}); is "
                        "`wall controller` running with its HTTP API on that address?") from None
    except requests.exceptions.RequestException as exc:
        raise WallError(f"bad request to {url}: {_short(exc)}") from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        text = response.text.strip()[:200] or HTTPStatus(response.status_code).phrase
        answer = {"error": f"not a JSON answer: {text}"}
    return response.status_code, answer


def switch_scenario(http: str, name: str, token: str | None, timeout: float = 10) -> dict:
    """Switch the wall through the HTTP API; the answer says the tick every panel shows it from.

    Raises:
        WallError: no token, the API cannot be reached, or it refuses (its reason is given).
    """
    return api_post(http, "/api/scenario", {"name": name}, token, timeout)


def api_post(http: str, path: str, body: dict, token: str | None, timeout: float = 10) -> dict:
    """A change through the HTTP API (a switch, a tour command); its JSON answer.

    Raises:
        WallError: no token, the API cannot be reached, or it refuses (its reason is given).
    """
    if not token:
        raise WallError(f"no token: pass --token or set {TOKEN_ENV} "
                        "(the controller prints its token at start)")
    status, answer = http_call(http, "POST", path, body, token=token, timeout=timeout)
    if status != 200:
        raise WallError(f"{answer.get('error', answer)} (HTTP {status})")
    return answer


def _refused(exc: BaseException) -> bool:
    seen = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ConnectionRefusedError):
            return True
        stack += [e.__cause__, e.__context__, *(a for a in e.args if isinstance(a, Exception))]
        stack.append(getattr(e, "reason", None))
    return "refused" in str(exc).lower()


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def controller_time(activates_at: float) -> str:
    """A controller-clock Unix time as local ``YYYY-MM-DD HH:MM:SS.mmm``."""
    moment = datetime.datetime.fromtimestamp(activates_at)
    return moment.isoformat(sep=" ", timespec="milliseconds")
