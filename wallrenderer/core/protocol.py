"""Wire protocol between controller and renderers: one versioned, compact encoding.

Pure Python (no zmq import) so encoding tests run in milliseconds; the socket
code in `wallrenderer.renderer.link` and `controller.node` sends the frames built here.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import msgspec

VERSION = 1
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
TOPIC_ALL = b"all"


class ProtocolError(Exception):
    """A message that is malformed, truncated, oversized or of a foreign version."""


@dataclass(frozen=True)
class Message:
    """One protocol message.

    Wire spec, frame by frame (multipart ZeroMQ message):

    - frame 0, PUB/SUB only: topic, ``b"all"`` (reserved so later messages can
      address one display with a prefix of their own);
    - frame 1: header, UTF-8 JSON object ``{"v": 1, "k": KIND, "s": SEQ, "e": EPOCH, "t": TIME}``
      where ``v`` is the protocol version (other versions are rejected), ``k`` the
      message kind, ``s`` the sender's sequence number (0 when not sequenced),
      ``e`` the controller's epoch (changes when a controller restarts) and ``t``
      the sender's clock (seconds since the Unix epoch) when it sent the message;
    - frame 2: body, UTF-8 JSON object specific to the kind.

    Kinds, controller to renderer, sequenced (a gap makes the renderer re-sync):
    ``state`` (wall, scenario, latest data, any switch under way), ``prepare``
    (phase one of a switch: ``id``, ``name``, ``scenario``), ``commit``
    (``id``, ``tick``: show it from that tick on), ``data`` (a data frame).
    Not sequenced: ``hb`` (heartbeat carrying the last sequence number),
    ``capture`` (write a PNG of the frame for shared time ``at``; with ``inline``,
    send it back as a base64 JPEG of at most that many pixels a side instead,
    for the tablet's live preview), and on the
    request socket ``snapshot`` (answer to ``hello``, same body as ``state``)
    and ``pong`` (clock exchange, answer to ``ping``). Renderer to controller:
    ``hello``, ``ping``, ``report`` (frame statistics), ``ack`` (switch
    prepared), ``captured`` (``path``, ``image`` or ``error``). Control clients
    (``wallrenderer demo``, ``wallrenderer status``) send ``capture`` and
    ``status`` and get ``reply``.
    The whole message may not exceed ``MAX_MESSAGE_BYTES``.
    """

    kind: str
    body: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
    epoch: int = 0
    time: float = 0.0

    def encode(self) -> list[bytes]:
        """Header and body frames (no topic)."""
        header = {"v": VERSION, "k": self.kind, "s": self.seq, "e": self.epoch, "t": self.time}
        frames = [_dumps(header), _dumps(self.body)]
        if sum(len(f) for f in frames) > MAX_MESSAGE_BYTES:
            raise ProtocolError(f"{self.kind} message exceeds {MAX_MESSAGE_BYTES} bytes")
        return frames

    @classmethod
    def decode(cls, frames: list[bytes]) -> Message:
        """Parse header and body frames; raise ProtocolError on anything unexpected."""
        if len(frames) != 2:
            raise ProtocolError(f"expected 2 frames, got {len(frames)}")
        if sum(len(f) for f in frames) > MAX_MESSAGE_BYTES:
            raise ProtocolError("message too large")
        header = _loads(frames[0], "header")
        version = header.get("v")
        if isinstance(version, bool) or version != VERSION:
            raise ProtocolError(f"unsupported protocol version {version!r}")
        kind, seq, epoch, sent = header.get("k"), header.get("s"), header.get("e"), header.get("t")
        if not isinstance(kind, str) or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in (seq, epoch)
        ):
            raise ProtocolError("header fields k, s, e have wrong types")
        if not isinstance(sent, (int, float)) or isinstance(sent, bool) or not math.isfinite(sent):
            raise ProtocolError("header field t is not a finite number")
        return cls(kind=kind, body=_loads(frames[1], "body"), seq=seq, epoch=epoch, time=sent)


def _dumps(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def reject_json_constant(name: str) -> None:
    """For `json.loads(parse_constant=...)`: NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not JSON")


#: Strict JSON, decoded in C: NaN, Infinity, numbers out of a float's range (1e400, which
#: no tick, time or size can be), invalid UTF-8 and trailing bytes are all refused.
_DECODER = msgspec.json.Decoder()


def _loads(frame: bytes, what: str) -> dict[str, Any]:
    try:
        obj = _DECODER.decode(frame)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise ProtocolError(f"{what} is not UTF-8 JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError(f"{what} is not a JSON object")
    return obj
