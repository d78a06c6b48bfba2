"""Optional CURVE encryption and authentication of the wall's ZeroMQ links.

Without it the wall talks plain TCP: anyone on the network can read the
layout and data, and anything that reaches the controller's ports can join as
a renderer or ask for captures. With it, every link is encrypted, renderers
check that they talk to the real controller (its public key), and the
controller accepts only clients whose public key an operator placed in its
allow folder; any other client is refused during the handshake.

Keys are ZeroMQ certificate files, as `zmq.auth` and czmq write them:
`NAME.key` holds the public key and may be copied anywhere; `NAME.key_secret`
holds both keys and stays on the machine that is NAME (mode 0600).

Server side (controller, or a relay's downstream sockets), per zmq.Context::

    server = CurveServer(Path("controller.key_secret"), Path("allowed"))
    auth = start_authenticator(zctx, server)    # before any server socket binds
    apply_server(pub, server); pub.bind(...)
    ...
    auth.stop()                                 # before zctx.term()

Client side (renderer, `wallrenderer status`, relay upstream)::

    client = CurveClient(Path("r0c0.key_secret"), Path("controller.key"))
    apply_client(sub, client); sub.connect(...)
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import re
import shutil
import stat
import tempfile
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator
from zmq.utils import z85

from wallrenderer.core.errors import WallError

log = logging.getLogger(__name__)

#: ZAP domain of every socket `apply_server` configures. With a domain set and
#: ZMQ_ZAP_ENFORCE_DOMAIN on, libzmq refuses every client when no authenticator
#: runs on the socket's context, instead of silently accepting them all.
ZAP_DOMAIN = "wallrenderer"

PUBLIC_SUFFIX = ".key"
#: Request kinds that speak for one renderer (named by their `display`): with CURVE on,
#: only that renderer's key, or a relay's, may send them.
SPEAKS_FOR_RENDERER = frozenset({"report", "ack", "captured"})
#: Requests that change or read out the whole wall: with CURVE on, not from a renderer's key.
OPERATOR_ONLY = frozenset({"capture", "colour"})
MAX_REFUSALS_LOGGED_PER_KEY = 10
RELAYS_DIR = "relays"
"""Subfolder of the allowed folder for relays' keys: they speak for the renderers behind them."""
SECRET_SUFFIX = ".key_secret"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_MAKE_KEYS = "make a key pair with `wallrenderer keys --out DIR NAME` (see docs/security.md)"

_authenticators: weakref.WeakKeyDictionary[zmq.Context, ThreadAuthenticator] = (
    weakref.WeakKeyDictionary()
)


class SecurityError(WallError):
    """A key file or key setting the operator has to fix."""


def generate_keys(out_dir: Path, name: str) -> tuple[Path, Path]:
    """Write a new CURVE key pair `NAME.key` (public) and `NAME.key_secret` (secret, 0600).

    The pair is written in a private temporary folder and moved into place, so
    the secret file is never readable by others, not even for a moment. An
    existing pair is never overwritten: replacing a key silently would lock
    out every machine that still holds the old one.

    Args:
        out_dir: folder for the files; created (mode 0700) when missing.
        name: what the pair identifies, e.g. `controller` or a display id.

    Returns:
        The public and the secret key file.

    Raises:
        SecurityError: bad name, a file of that name already exists, or the
            folder cannot be written.
    """
    out_dir = Path(out_dir)
    public, secret = _refuse_clash(out_dir, name)
    try:
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out_dir))
    except OSError as exc:
        raise SecurityError(f"cannot write keys into {out_dir}: {exc.strerror or exc}") from exc
    try:
        made_public, made_secret = (
            Path(p) for p in zmq.auth.create_certificates(staging, name)
        )
        made_secret.chmod(0o600)
        made_public.chmod(0o644)
        _place(made_public, public)
        try:
            _place(made_secret, secret)
        except SecurityError:
            public.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise SecurityError(f"cannot write keys into {out_dir}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return public, secret


def _refuse_clash(out_dir: Path, name: str) -> tuple[Path, Path]:
    """The two file names for `name`, after checking the name and that neither exists."""
    if not _NAME.fullmatch(name):
        raise SecurityError(
            f"key name {name!r}: use letters, digits, '.', '_' and '-' "
            "(not starting with '.' or '-'), e.g. controller or r0c1"
        )
    paths = out_dir / f"{name}{PUBLIC_SUFFIX}", out_dir / f"{name}{SECRET_SUFFIX}"
    for path in paths:
        if path.exists() or path.is_symlink():
            raise SecurityError(
                f"{path} already exists; not overwriting it (machines holding that key "
                "would be locked out). Delete it first or choose another --out folder."
            )
    return paths


def _place(src: Path, dst: Path) -> None:
    """Move `src` to `dst` unless `dst` exists (a hard link fails on an existing name)."""
    try:
        os.link(src, dst)
    except FileExistsError as exc:
        raise SecurityError(f"{dst} already exists; not overwriting it") from exc
    except OSError:  # a file system without hard links: check, then rename
        if dst.exists():
            raise SecurityError(f"{dst} already exists; not overwriting it") from None
        os.replace(src, dst)
    else:
        src.unlink()


def _load(path: Path, role: str) -> tuple[bytes, bytes | None]:
    """Public and secret key (secret None for a public-only file) of one certificate file."""
    path = Path(path)
    if not path.is_file():
        what = "does not exist" if not path.exists() else "is not a file"
        raise SecurityError(f"{role} {path} {what}; {_MAKE_KEYS}")
    try:
        public, secret = zmq.auth.load_certificate(path)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SecurityError(f"{role} {path}: cannot read it ({reason}); {_MAKE_KEYS}") from exc
    for key, which in ((public, "public"), (secret, "secret")):
        if key is not None and not _is_z85_key(key):
            raise SecurityError(
                f"{role} {path}: the {which} key is not a 40-character Z85 CURVE key; "
                f"{_MAKE_KEYS}"
            )
    return public, secret


def _is_z85_key(key: bytes) -> bool:
    if len(key) != 40:
        return False
    try:
        return len(z85.decode(key)) == 32
    except (ValueError, KeyError, TypeError):
        return False


def _load_secret(path: Path) -> tuple[bytes, bytes]:
    """Both keys of our own secret key file, checked to belong together."""
    public, secret = _load(path, "secret key file")
    if secret is None:
        raise SecurityError(
            f"secret key file {path} holds only a public key; give this machine's "
            f"NAME{SECRET_SUFFIX} file, not NAME{PUBLIC_SUFFIX}"
        )
    if zmq.curve_public(secret) != public:
        raise SecurityError(
            f"secret key file {path}: its public and secret keys do not belong together "
            f"(edited by hand?); {_MAKE_KEYS}"
        )
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("secret key file %s is readable by other users; chmod 600 it", path)
    return public, secret


@dataclass(frozen=True)
class CurveServer:
    """The accepting side's keys: our secret key file and the folder of allowed public keys.

    The files are read and checked when the object is made, so a bad path
    stops the controller at start-up with a clear message instead of letting
    it run and refuse every renderer.

    A key's file name says whom it speaks for: `r0c1.key` may send reports,
    acknowledgements and capture results only as renderer `r0c1`; keys in
    the `relays/` subfolder belong to `wallrenderer relay`s, which pass on
    those messages for the renderers behind them (and check them themselves).

    Attributes:
        secret_key_file: this server's `NAME.key_secret`.
        allow_dir: folder whose `*.key` files are the public keys of every
            client (renderer, `wallrenderer status`) allowed to connect, and
            whose `relays/*.key` are those of relays.
    """

    secret_key_file: Path
    allow_dir: Path
    public_key: bytes = field(init=False, repr=False, compare=False)
    secret_key: bytes = field(init=False, repr=False, compare=False)
    names: dict[str, str] = field(init=False, repr=False, compare=False)
    relays: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "secret_key_file", Path(self.secret_key_file))
        object.__setattr__(self, "allow_dir", Path(self.allow_dir))
        public, secret = _load_secret(self.secret_key_file)
        object.__setattr__(self, "public_key", public)
        object.__setattr__(self, "secret_key", secret)
        names, relays = _load_allowed(self.allow_dir)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "relays", relays)

    def speaks_for(self, user_id: str | None, display: str) -> bool:
        """Whether the client with ZAP User-Id `user_id` may send messages naming `display`.

        The User-Id is the client's Z85 public key, as the authenticator sets it.
        """
        return user_id in self.relays or (
            user_id is not None and self.names.get(user_id) == display)

    def name_of(self, user_id: str | None) -> str:
        """The key file a client holds (`r0c1`, `relays/floor2`), for logs."""
        if user_id in self.relays:
            return f"{RELAYS_DIR}/{self.relays[user_id]}"
        return self.names.get(user_id or "", "an unknown key")

    def callback(self, domain: str, z85_key: bytes) -> bool:
        """The authenticator's question: is this client key allowed in?"""
        key = z85_key.decode("ascii", "replace")
        return key in self.names or key in self.relays


class Gate:
    """Whether a request may pass, by the key that sent it; each kind of refusal logged once.

    Used where CURVE requests arrive: the controller, and a relay that checks
    the renderers below it. Refusals are for the caller to count.

    Args:
        server: the accepting side's keys and names.
        renderer_names: key names that belong to renderers of the wall (the
            controller knows them; a relay passes an empty set).
    """

    def __init__(self, server: CurveServer, renderer_names: frozenset[str] = frozenset()):
        self.server = server
        self.renderer_names = renderer_names
        self._logged: dict[str, set[str]] = {}  # bounded: one entry per allowed key at most

    @staticmethod
    def sender(frame: zmq.Frame) -> str | None:
        """The ZAP User-Id (the client's Z85 public key) of a received frame, or None."""
        try:
            return frame.get("User-Id")
        except zmq.ZMQError:
            return None

    def allows(self, sender: str | None, kind: str, body: dict) -> bool:
        """True when the client `sender` may send this request."""
        if kind in SPEAKS_FOR_RENDERER:
            display = str(body.get("display"))
            if self.server.speaks_for(sender, display):
                return True
            self._refused(sender, f"messages about renderer {display[:64]!r}")
            return False
        if kind in OPERATOR_ONLY and self.server.names.get(sender or "") in self.renderer_names:
            self._refused(sender, f"{kind} requests")
            return False
        return True

    def _refused(self, sender: str | None, what: str) -> None:
        key = self.server.name_of(sender)
        seen = self._logged.setdefault(key, set())
        if what not in seen and len(seen) < MAX_REFUSALS_LOGGED_PER_KEY:
            seen.add(what)
            log.warning("dropped %s sent with the key of %s", what, key)


def warn_unnamed_displays(server: CurveServer, display_ids: list[str]) -> None:
    """Say at start-up which panels no allowed key is named after: their reports will be dropped."""
    named = set(server.names.values())
    missing = [d for d in display_ids if d not in named]
    if missing:
        via = " unless they come through a relay (allowed/relays/)" if server.relays else ""
        log.warning("CURVE: no key in %s is named after %s; reports from %s will be "
                    "dropped%s (docs/security.md)", server.allow_dir, ", ".join(missing),
                    "that renderer" if len(missing) == 1 else "those renderers", via)


def _load_allowed(allow_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Clients' and relays' public keys (Z85 text) mapped to their key file names."""
    if not allow_dir.is_dir():
        raise SecurityError(
            f"allowed-keys folder {allow_dir} does not exist; create it and copy the public "
            f"NAME{PUBLIC_SUFFIX} file of every renderer allowed to connect into it"
        )
    found = []
    for folder in (allow_dir, allow_dir / RELAYS_DIR):
        keys: dict[str, str] = {}
        for path in sorted(folder.glob(f"*{PUBLIC_SUFFIX}")):
            key = _load(path, "allowed public key file")[0].decode()
            if keys.setdefault(key, path.stem) != path.stem:
                raise SecurityError(
                    f"{path} holds the same key as {folder / keys[key]}{PUBLIC_SUFFIX}; "
                    "one key speaks for one renderer, so delete one of them"
                )
        found.append(keys)
        leaked = sorted(p.name for p in folder.glob(f"*{SECRET_SUFFIX}"))
        if leaked:
            log.warning(
                "%s holds secret key files (%s); only public *.key files belong there",
                folder, ", ".join(leaked),
            )
    names, relays = found
    if not names and not relays:
        raise SecurityError(
            f"allowed-keys folder {allow_dir} has no *{PUBLIC_SUFFIX} files, so every renderer "
            f"would be refused; copy the public NAME{PUBLIC_SUFFIX} of each renderer into it"
        )
    both = sorted(names[k] for k in names.keys() & relays.keys())
    if both:
        raise SecurityError(
            f"{allow_dir}: {', '.join(both)} is both a client key and a relay key "
            f"({RELAYS_DIR}/); keep it in one place"
        )
    return names, relays


@dataclass(frozen=True)
class CurveClient:
    """The connecting side's keys: our secret key file and the server's public key file.

    The files are read and checked when the object is made (see CurveServer).

    Attributes:
        secret_key_file: this machine's `NAME.key_secret`.
        server_key_file: the controller's (or relay's) public `NAME.key`; the
            handshake fails unless the server proves it holds the matching
            secret, so a renderer cannot be fed by an impostor.
    """

    secret_key_file: Path
    server_key_file: Path
    public_key: bytes = field(init=False, repr=False, compare=False)
    secret_key: bytes = field(init=False, repr=False, compare=False)
    server_key: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "secret_key_file", Path(self.secret_key_file))
        object.__setattr__(self, "server_key_file", Path(self.server_key_file))
        public, secret = _load_secret(self.secret_key_file)
        server_public, server_secret = _load(self.server_key_file, "server public key file")
        if server_secret is not None:
            raise SecurityError(
                f"server public key file {self.server_key_file} holds a secret key; give the "
                f"server's public NAME{PUBLIC_SUFFIX} file (its secret must stay on the server)"
            )
        object.__setattr__(self, "public_key", public)
        object.__setattr__(self, "secret_key", secret)
        object.__setattr__(self, "server_key", server_public)


def server_from_options(secret: str | None, allow: str | None) -> CurveServer | None:
    """CurveServer from `--curve-secret` and `--curve-allow`; None when neither is given.

    Raises:
        SecurityError: only one of the two was given, or a file is bad.
    """
    if secret is None and allow is None:
        return None
    if secret is None or allow is None:
        raise SecurityError("--curve-secret and --curve-allow go together; give both or neither")
    return CurveServer(Path(secret), Path(allow))


def client_from_options(secret: str | None, server: str | None) -> CurveClient | None:
    """CurveClient from `--curve-secret` and `--curve-server`; None when neither is given.

    Raises:
        SecurityError: only one of the two was given, or a file is bad.
    """
    if secret is None and server is None:
        return None
    if secret is None or server is None:
        raise SecurityError("--curve-secret and --curve-server go together; give both or neither")
    return CurveClient(Path(secret), Path(server))


def start_authenticator(zctx: zmq.Context, server: CurveServer) -> ThreadAuthenticator:
    """Start the ZAP handler that admits only the public keys in `server.allow_dir`.

    ZAP is per context: this serves every CURVE server socket of `zctx`, and a
    context can have only one. Start it before binding those sockets; stop it
    with `.stop()` before terminating the context. The folder is read once;
    restart to pick up keys added later. Refusals are logged at debug level
    on the `wallrenderer.core.security.zap` logger, with the refused public key.

    Returns:
        The running authenticator.

    Raises:
        SecurityError: `zctx` already has a running authenticator.
    """
    running = _authenticators.get(zctx)
    if running is not None and running.is_alive():
        raise SecurityError(
            "this ZeroMQ context already has a CURVE authenticator; use one per context"
        )
    auth = ThreadAuthenticator(zctx, log=logging.getLogger(f"{__name__}.zap"))
    # A just-stopped authenticator frees the ZAP endpoint asynchronously: retry briefly.
    deadline = time.monotonic() + 1.0
    while True:
        try:
            auth.start()
            break
        except zmq.ZMQError as exc:
            auth.stop()
            if exc.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                raise SecurityError(
                    f"cannot start the CURVE authenticator: {exc} (one per context)"
                ) from exc
            time.sleep(0.02)
    for domain in (ZAP_DOMAIN, "*"):
        auth.configure_curve_callback(domain=domain, credentials_provider=server)
    _authenticators[zctx] = auth
    log.info("CURVE on: %d client and %d relay public key(s) from %s", len(server.names),
             len(server.relays), server.allow_dir)
    return auth


def apply_server(sock: zmq.Socket, server: CurveServer) -> None:
    """Make `sock` a CURVE server: encrypted, and clients checked against the allow folder.

    Call before `bind`. The socket also gets a ZAP domain with enforcement on,
    so that if no authenticator runs on its context every client is refused
    rather than every client accepted.

    Raises:
        SecurityError: no authenticator runs on the socket's context
            (`start_authenticator` first).
    """
    running = _authenticators.get(sock.context)
    if running is None or not running.is_alive():
        raise SecurityError(
            "no CURVE authenticator runs on this socket's context; call "
            "start_authenticator(zctx, server) before apply_server"
        )
    sock.curve_secretkey = server.secret_key
    sock.curve_publickey = server.public_key
    sock.curve_server = True
    sock.zap_domain = ZAP_DOMAIN.encode()
    enforce = getattr(zmq, "ZAP_ENFORCE_DOMAIN", None)
    if enforce is not None:
        try:
            sock.setsockopt(enforce, 1)
        except zmq.ZMQError:  # libzmq older than 4.3: the authenticator still applies
            pass


def apply_client(sock: zmq.Socket, client: CurveClient) -> None:
    """Make `sock` a CURVE client that only talks to the server holding `server_key_file`.

    Call before `connect`. A refused or mismatched handshake does not raise:
    the socket simply never delivers messages (and keeps retrying), as ZeroMQ
    does for any unreachable peer.
    """
    sock.curve_secretkey = client.secret_key
    sock.curve_publickey = client.public_key
    sock.curve_serverkey = client.server_key


def add_keys_parser(subparsers) -> argparse.ArgumentParser:
    """Add `wallrenderer keys --out DIR NAME [NAME ...]` to the `wallrenderer` subcommands.

    Args:
        subparsers: what `ArgumentParser.add_subparsers()` returned.

    Returns:
        The `keys` subparser; its `run` default is `keys_command`.
    """
    keys = subparsers.add_parser(
        "keys",
        help="generate CURVE key pairs for encrypted, authenticated links",
        description="Write NAME.key (public) and NAME.key_secret (secret, mode 0600) for each "
        "NAME. Existing files are never overwritten. See docs/security.md.",
    )
    keys.add_argument("--out", required=True, metavar="DIR",
                      help="folder for the key files (created, mode 0700, when missing)")
    keys.add_argument("names", nargs="+", metavar="NAME",
                      help="one pair per name, e.g. controller r0c0 r0c1")
    keys.set_defaults(run=keys_command)
    return keys


def keys_command(args: argparse.Namespace) -> int:
    """Run `wallrenderer keys`: one key pair per NAME, then say what to copy where.

    Every name is checked before anything is written, so a clash leaves the
    folder as it was.

    Raises:
        SecurityError: a name is repeated or invalid, or a file already exists.
    """
    out = Path(args.out)
    names = list(args.names)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SecurityError(f"name(s) given more than once: {', '.join(repeated)}")
    for name in names:
        _refuse_clash(out, name)
    for name in names:
        public, secret = generate_keys(out, name)
        print(f"wrote {public} (public) and {secret} (secret, mode 0600)")
    server = "controller" if "controller" in names else "CONTROLLER"
    clients = [n for n in names if n != server] or ["NAME"]
    client_keys = ", ".join(c + PUBLIC_SUFFIX for c in clients)
    print(
        "\nNext steps (docs/security.md):\n"
        f"  controller machine: its secret key {server}{SECRET_SUFFIX}, and a folder (allowed/)\n"
        f"    with the public key of every renderer and client let in ({client_keys};\n"
        f"    a renderer's key named after its display id, relays' keys in allowed/relays/):\n"
        f"      wall controller ... --curve-secret {server}{SECRET_SUFFIX} --curve-allow allowed/\n"
        f"  each renderer (and `wallrenderer status` user): its own NAME{SECRET_SUFFIX} and the\n"
        f"    controller's public key {server}{PUBLIC_SUFFIX}:\n"
        f"      wall renderer ... --curve-secret {clients[0]}{SECRET_SUFFIX}"
        f" --curve-server {server}{PUBLIC_SUFFIX}\n"
        "  A secret key never leaves its machine; public .key files may be copied freely."
    )
    return 0
