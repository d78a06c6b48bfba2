"""CURVE on real loopback sockets: allowed keys get through, every other client gets nothing.

Each test makes its own zmq.Context objects; the `net` fixture stops the
authenticators, closes every socket (linger 0) and terminates the contexts even
when an assertion fails, so nothing is left running.
"""

from __future__ import annotations

import argparse
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import zmq

from wallrenderer.core.errors import WallError
from wallrenderer.core.security import (
    CurveClient,
    CurveServer,
    Gate,
    SecurityError,
    add_keys_parser,
    apply_client,
    apply_server,
    client_from_options,
    generate_keys,
    keys_command,
    server_from_options,
    start_authenticator,
)

ALLOWED_WITHIN_S = 5.0
REFUSED_FOR_S = 1.0


@dataclass
class Keys:
    """Key files of one test: the server, client A (allowed) and client B (valid, not allowed)."""

    server_public: Path
    server_secret: Path
    a_public: Path
    a_secret: Path
    b_public: Path
    b_secret: Path
    allow_dir: Path

    def server(self) -> CurveServer:
        return CurveServer(self.server_secret, self.allow_dir)

    def client_a(self) -> CurveClient:
        return CurveClient(self.a_secret, self.server_public)

    def client_b(self) -> CurveClient:
        return CurveClient(self.b_secret, self.server_public)


@pytest.fixture
def keys(tmp_path) -> Keys:
    out = tmp_path / "keys"
    server_public, server_secret = generate_keys(out, "controller")
    a_public, a_secret = generate_keys(out, "r0c0")
    b_public, b_secret = generate_keys(out, "r0c1")
    allow_dir = tmp_path / "allowed"
    allow_dir.mkdir()
    shutil.copy(a_public, allow_dir)
    return Keys(server_public, server_secret, a_public, a_secret, b_public, b_secret, allow_dir)


class Net:
    """Contexts, sockets and authenticators of one test, all released by `close`."""

    def __init__(self):
        self.contexts: list[zmq.Context] = []
        self.sockets: list[zmq.Socket] = []
        self.authenticators: list = []

    def context(self) -> zmq.Context:
        zctx = zmq.Context()
        self.contexts.append(zctx)
        return zctx

    def socket(self, zctx: zmq.Context, kind: int) -> zmq.Socket:
        sock = zctx.socket(kind)
        sock.linger = 0
        self.sockets.append(sock)
        return sock

    def authenticator(self, zctx: zmq.Context, server: CurveServer):
        auth = start_authenticator(zctx, server)
        self.authenticators.append(auth)
        return auth

    def close(self) -> None:
        for auth in self.authenticators:
            auth.stop()
        for sock in self.sockets:
            sock.close(linger=0)
        for zctx in self.contexts:
            zctx.term()


@pytest.fixture
def net():
    harness = Net()
    try:
        yield harness
    finally:
        harness.close()


def endpoint(sock: zmq.Socket) -> str:
    return sock.last_endpoint.decode()


def curve_server_socket(net: Net, kind: int, server: CurveServer) -> zmq.Socket:
    """A bound CURVE server socket on a fresh context with its authenticator."""
    zctx = net.context()
    net.authenticator(zctx, server)
    sock = net.socket(zctx, kind)
    apply_server(sock, server)
    sock.bind("tcp://127.0.0.1:*")
    return sock


def subscriber(net: Net, zctx: zmq.Context, url: str, client: CurveClient | None) -> zmq.Socket:
    sock = net.socket(zctx, zmq.SUB)
    if client is not None:
        apply_client(sock, client)
    sock.subscribe(b"")
    sock.connect(url)
    return sock


def drain(sock: zmq.Socket) -> list[list[bytes]]:
    got = []
    while sock.poll(0):
        got.append(sock.recv_multipart())
    return got


def test_pub_reaches_only_the_allowed_subscriber(net, keys):
    pub = curve_server_socket(net, zmq.PUB, keys.server())
    clients = net.context()
    url = endpoint(pub)
    allowed = subscriber(net, clients, url, keys.client_a())
    not_allowed = subscriber(net, clients, url, keys.client_b())
    plain = subscriber(net, clients, url, None)
    received = {"allowed": [], "not_allowed": [], "plain": []}

    def pump(until) -> None:
        while not until():
            pub.send_multipart([b"all", b"state"])
            time.sleep(0.02)
            for name, sock in (("allowed", allowed), ("not_allowed", not_allowed),
                               ("plain", plain)):
                received[name] += drain(sock)

    deadline = time.monotonic() + ALLOWED_WITHIN_S
    pump(lambda: received["allowed"] or time.monotonic() > deadline)
    assert received["allowed"], f"allowed subscriber got nothing in {ALLOWED_WITHIN_S:g} s"
    # The others connected at the same moment; give them a further second.
    first = len(received["allowed"])
    until = time.monotonic() + REFUSED_FOR_S
    pump(lambda: time.monotonic() > until)
    assert received["allowed"][0] == [b"all", b"state"]
    assert len(received["allowed"]) > first
    assert received["not_allowed"] == []
    assert received["plain"] == []


def test_subscriber_with_the_wrong_server_key_gets_nothing(net, keys, tmp_path):
    """A renderer pointed at another server's public key refuses to talk to this one."""
    pub = curve_server_socket(net, zmq.PUB, keys.server())
    clients = net.context()
    impostor_public, _ = generate_keys(tmp_path / "other", "impostor")
    wrong = subscriber(net, clients, endpoint(pub), CurveClient(keys.a_secret, impostor_public))
    right = subscriber(net, clients, endpoint(pub), keys.client_a())
    got_right: list = []
    got_wrong: list = []
    deadline = time.monotonic() + ALLOWED_WITHIN_S + REFUSED_FOR_S
    right_at = None
    while time.monotonic() < deadline:
        pub.send(b"frame")
        time.sleep(0.02)
        got_right += drain(right)
        got_wrong += drain(wrong)
        if got_right and right_at is None:
            right_at = time.monotonic()
        if right_at is not None and time.monotonic() - right_at > REFUSED_FOR_S:
            break
    assert got_right, "the correctly configured subscriber got nothing"
    assert got_wrong == []


def test_router_answers_only_the_allowed_dealer(net, keys):
    router = curve_server_socket(net, zmq.ROUTER, keys.server())
    clients = net.context()
    dealers = {}
    for name, client in (("allowed", keys.client_a()), ("not_allowed", keys.client_b()),
                         ("plain", None)):
        sock = net.socket(clients, zmq.DEALER)
        if client is not None:
            apply_client(sock, client)
        sock.connect(endpoint(router))
        sock.send_multipart([b"hello", name.encode()])
        dealers[name] = sock
    requests: list[tuple[bytes, str]] = []
    replies = {name: [] for name in dealers}

    def serve(until) -> None:
        while not until():
            if router.poll(20):
                identity, *frames = router.recv_multipart(copy=False)
                requests.append((frames[-1].bytes, frames[-1].get("User-Id")))
                router.send_multipart([identity, b"snapshot", frames[-1].bytes])
            for name, sock in dealers.items():
                replies[name] += drain(sock)

    deadline = time.monotonic() + ALLOWED_WITHIN_S
    serve(lambda: replies["allowed"] or time.monotonic() > deadline)
    assert replies["allowed"] == [[b"snapshot", b"allowed"]]
    until = time.monotonic() + REFUSED_FOR_S
    serve(lambda: time.monotonic() > until)
    assert replies["not_allowed"] == []
    assert replies["plain"] == []
    # The refused requests never reached the server, and the server knows who asked.
    assert requests == [(b"allowed", keys.client_a().public_key.decode())]


def test_apply_server_without_an_authenticator_is_refused(net, keys):
    zctx = net.context()
    sock = net.socket(zctx, zmq.PUB)
    with pytest.raises(SecurityError, match="start_authenticator"):
        apply_server(sock, keys.server())


def test_one_authenticator_per_context(net, keys):
    zctx = net.context()
    first = net.authenticator(zctx, keys.server())
    with pytest.raises(SecurityError, match="one per context"):
        start_authenticator(zctx, keys.server())
    first.stop()
    net.authenticator(zctx, keys.server())  # a stopped one can be replaced


def test_generate_keys_writes_a_private_secret_and_never_overwrites(tmp_path):
    public, secret = generate_keys(tmp_path / "k", "r1c2")
    assert (public.name, secret.name) == ("r1c2.key", "r1c2.key_secret")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert [p.name for p in (tmp_path / "k").iterdir() if p.name.startswith(".")] == []
    before = (public.read_bytes(), secret.read_bytes())
    with pytest.raises(SecurityError, match=r"r1c2\.key.* already exists") as err:
        generate_keys(tmp_path / "k", "r1c2")
    assert isinstance(err.value, WallError)
    assert (public.read_bytes(), secret.read_bytes()) == before
    secret.unlink()  # half a pair is still not overwritten
    with pytest.raises(SecurityError, match="already exists"):
        generate_keys(tmp_path / "k", "r1c2")
    assert public.read_bytes() == before[0]


@pytest.mark.parametrize("name", ["", "../up", "a/b", ".hidden", "-x"])
def test_generate_keys_rejects_names_that_are_not_plain_file_names(tmp_path, name):
    with pytest.raises(SecurityError, match="key name"):
        generate_keys(tmp_path, name)
    assert list(tmp_path.iterdir()) == []


def test_missing_key_file_names_the_file_and_how_to_make_one(keys, tmp_path):
    missing = tmp_path / "nowhere" / "r9c9.key_secret"
    with pytest.raises(SecurityError) as err:
        CurveClient(missing, keys.server_public)
    assert str(missing) in str(err.value)
    assert "wallrenderer keys" in str(err.value)
    with pytest.raises(SecurityError, match="controller.key.*wallrenderer keys"):
        CurveClient(keys.a_secret, tmp_path / "controller.key")
    with pytest.raises(SecurityError, match="wallrenderer keys"):
        CurveServer(tmp_path / "none.key_secret", keys.allow_dir)


def test_malformed_and_misplaced_key_files_are_refused(keys, tmp_path):
    garbage = tmp_path / "garbage.key_secret"
    garbage.write_text("not a certificate\n")
    with pytest.raises(SecurityError, match=f"{garbage}.*wallrenderer keys"):
        CurveClient(garbage, keys.server_public)
    short = tmp_path / "short.key"
    short.write_text('curve\n    public-key = "tooshort"\n')
    with pytest.raises(SecurityError, match="40-character"):
        CurveClient(keys.a_secret, short)
    with pytest.raises(SecurityError, match="only a public key"):
        CurveClient(keys.a_public, keys.server_public)
    with pytest.raises(SecurityError, match="holds a secret key"):
        CurveClient(keys.a_secret, keys.server_secret)


def test_allow_folder_must_exist_and_hold_public_keys(keys, tmp_path):
    with pytest.raises(SecurityError, match="does not exist"):
        CurveServer(keys.server_secret, tmp_path / "no-such-folder")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SecurityError, match="no \\*.key files"):
        CurveServer(keys.server_secret, empty)


def test_options_go_in_pairs(keys):
    assert server_from_options(None, None) is None
    assert client_from_options(None, None) is None
    with pytest.raises(SecurityError, match="--curve-allow"):
        server_from_options(str(keys.server_secret), None)
    with pytest.raises(SecurityError, match="--curve-server"):
        client_from_options(None, str(keys.server_public))
    assert server_from_options(str(keys.server_secret), str(keys.allow_dir)) == keys.server()
    assert client_from_options(str(keys.a_secret), str(keys.server_public)) == keys.client_a()


def keys_parser() -> argparse.ArgumentParser:
    """A `wallrenderer`-like parser with only the keys subcommand, as cli.build_parser adds it."""
    parser = argparse.ArgumentParser(prog="wallrenderer")
    add_keys_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def test_wall_keys_writes_one_pair_per_name_and_says_what_next(tmp_path, capsys):
    out = tmp_path / "keys"
    args = keys_parser().parse_args(["keys", "--out", str(out), "controller", "r0c0", "r0c1"])
    assert args.run is keys_command
    assert keys_command(args) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{n}{s}" for n in ("controller", "r0c0", "r0c1")
                           for s in (".key", ".key_secret"))
    printed = capsys.readouterr().out
    for name in names:
        assert str(out / name) in printed
    assert "--curve-secret controller.key_secret --curve-allow" in printed
    assert "--curve-server controller.key" in printed
    # The written files work as a server and a client.
    allow = tmp_path / "allowed"
    allow.mkdir()
    shutil.copy(out / "r0c0.key", allow)
    CurveServer(out / "controller.key_secret", allow)
    CurveClient(out / "r0c0.key_secret", out / "controller.key")


def test_wall_keys_writes_nothing_when_any_name_clashes(tmp_path):
    out = tmp_path / "keys"
    generate_keys(out, "r0c1")
    before = sorted(p.name for p in out.iterdir())
    args = keys_parser().parse_args(["keys", "--out", str(out), "r0c0", "r0c1"])
    with pytest.raises(SecurityError, match="r0c1.key.* already exists"):
        keys_command(args)
    assert sorted(p.name for p in out.iterdir()) == before


def test_wall_keys_needs_out_and_a_name():
    with pytest.raises(SystemExit):
        keys_parser().parse_args(["keys", "r0c0"])
    with pytest.raises(SystemExit):
        keys_parser().parse_args(["keys", "--out", "k"])


def test_key_file_names_say_whom_a_client_speaks_for(keys):
    relays = keys.allow_dir / "relays"
    relays.mkdir()
    relay_public, _ = generate_keys(keys.allow_dir.parent / "relay-keys", "floor2")
    shutil.copy(relay_public, relays)
    server = keys.server()
    a = keys.client_a().public_key.decode()
    relay = zmq.auth.load_certificate(relay_public)[0].decode()
    assert server.speaks_for(a, "r0c0") and not server.speaks_for(a, "r0c1")
    assert server.speaks_for(relay, "r0c1") and server.speaks_for(relay, "anything")
    assert not server.speaks_for(None, "r0c0")
    assert not server.speaks_for(keys.client_b().public_key.decode(), "r0c1")  # not allowed
    assert (server.name_of(a), server.name_of(relay)) == ("r0c0", "relays/floor2")


def test_one_key_under_two_names_is_refused(keys):
    shutil.copy(keys.a_public, keys.allow_dir / "spare.key")
    with pytest.raises(SecurityError, match=r"spare\.key holds the same key as .*r0c0\.key"):
        keys.server()


def test_the_gate_lets_a_renderer_speak_only_for_itself_and_not_as_an_operator(keys, caplog):
    server = keys.server()
    gate = Gate(server, frozenset({"r0c0", "r0c1"}))
    a = keys.client_a().public_key.decode()  # r0c0's key
    assert gate.allows(a, "report", {"display": "r0c0"})
    assert not gate.allows(a, "ack", {"display": "r0c1"})
    assert not gate.allows(a, "captured", {"display": "x" * 10_000})
    assert not gate.allows(a, "colour", {"display": "r0c0", "gains": [1, 1, 1]})
    assert not gate.allows(a, "capture", {"dir": "shots"})
    assert gate.allows(a, "status", {}) and gate.allows(a, "hello", {"display": "r0c1"})
    assert not gate.allows(None, "report", {"display": "r0c0"})
    for _ in range(3):
        gate.allows(a, "ack", {"display": "r0c1"})
    refusals = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(refusals) == 5, refusals  # each kind of refusal once, however often it comes
    assert max(len(m) for m in refusals) < 200, "a client's junk is not logged whole"


def test_a_plain_frame_has_no_sender(net):
    zctx = net.context()
    pull, push = net.socket(zctx, zmq.PULL), net.socket(zctx, zmq.PUSH)
    pull.bind("inproc://plain")
    push.connect("inproc://plain")
    push.send(b"x")
    assert Gate.sender(pull.recv(copy=False)) is None


def test_a_curve_controller_names_the_panels_no_key_speaks_for(net, keys, caplog):
    from controller.demo import free_port_pair
    from controller.node import Controller

    zctx = net.context()
    net.authenticator(zctx, keys.server())
    wall = {"wall": {"name": "w"}}
    scenarios = {"testcard": {"scenario": {"name": "testcard", "widgets": []}}}
    controller = Controller(wall, scenarios, "testcard", ["r0c0", "r0c1"],
                            f"127.0.0.1:{free_port_pair()}", zctx, keys.server())
    controller.close()
    warned = [r.getMessage() for r in caplog.records if "no key in" in r.getMessage()]
    assert len(warned) == 1 and "named after r0c1;" in warned[0], warned
