"""Controller addresses as operators type them, and the two ZeroMQ endpoints behind one.

Pure (no zmq import) so the HTTP client and the command line can use it cheaply.
"""

from __future__ import annotations

from wallrenderer.core.errors import WallError

DEFAULT_PORT = 7700


def parse_address(text: str, default_port: int = DEFAULT_PORT) -> tuple[str, int]:
    """HOST, HOST:PORT, [IPV6] or [IPV6]:PORT -> (host, port); IPv6 hosts keep brackets.

    Raises:
        WallError: the port is not a number in 1..65534 (PORT + 1 must exist too).
    """
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        host, port = f"[{host}]", rest.lstrip(":")
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = (f"[{text}]" if ":" in text else text), ""
    if not port:
        return host or "127.0.0.1", default_port
    if not port.isdigit() or not 0 < int(port) < 65535:
        raise WallError(f"{text!r}: the port must be a number from 1 to 65534")
    return host or "127.0.0.1", int(port)


def endpoints(address: str) -> tuple[str, str]:
    """PUB and ROUTER endpoints of a controller (or relay) at HOST[:PORT].

    The controller publishes on PORT and answers requests on PORT + 1.
    """
    host, port = parse_address(address)
    return f"tcp://{host}:{port}", f"tcp://{host}:{port + 1}"
