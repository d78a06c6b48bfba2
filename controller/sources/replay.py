"""`replay:FILE.jsonl` source: replays a recorded stream, one normalised post per line.

Posts are handed over at `speed` times the recorded pace, keeping the
original gaps between them (`speed=0`: as fast as possible, for benchmarks
and back-fills). With `loop=1` the file starts again at its end; each new
pass shifts times by the file's span plus one mean gap, so they keep
increasing, and suffixes ids (`#1`, `#2`, ...) so a pass is not taken for
duplicates of the last.

With a `raw_sink` (the controller's fast path) lines go over as raw `bytes`
in batches, and the controller validates them in bulk (`posts.parse_lines`);
a line is read here only as far as its `"time"` when the pace matters.
Without one, each line is decoded here and the records are validated by
`Source.emit`, against the same schema. Malformed lines are dropped and
counted either way (the controller reports those it rejects through
`count_dropped`).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import orjson

from controller.posts import Fill, parse_time
from controller.sources.base import Source, SourceError

_TIME = re.compile(rb'"time"\s*:\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)')
_ID = re.compile(rb'"(id|in_reply_to)"\s*:\s*"((?:[^"\\]|\\.)+)"')
#: bytes read from the file per batch on the as-fast-as-possible path
CHUNK_BYTES = 1 << 20


class ReplaySource(Source):
    """Replays a JSON-lines file of posts.

    Args:
        path: the file.
        speed: recorded seconds per real second (0: as fast as possible).
        loop: start again at the end, for ever.
        batch: most posts handed over at once.
        clock: monotonic seconds (tests may pass their own).
    """

    SPEC_OPTIONS = {"speed": float, "loop": bool, "batch": int}
    fill = Fill("replay")

    def __init__(self, path: str | Path, *, speed: float = 1.0, loop: bool = False,
                 batch: int = 5000, clock=time.monotonic, name: str | None = None,
                 backoff: float = 1.0, backoff_max: float = 60.0):
        super().__init__(name or f"replay:{path}", backoff=backoff, backoff_max=backoff_max)
        self.path = Path(path)
        self.speed = speed
        self.loop = loop
        self.batch = max(1, batch)
        self.clock = clock
        self._file = None
        self._pending: tuple[float, Any] | None = None
        self._pass = 0
        self._shift = 0.0
        self._first: float | None = None   # recorded time of the first post, first pass
        self._span = (float("inf"), float("-inf"), 0)   # min, max, valid lines of this pass
        self._real0 = 0.0

    def poll(self) -> float | None:
        """Hand over the posts that are due; the wait until the next one."""
        if self._file is None:
            try:
                self._file = self.path.open("rb")
            except OSError as exc:
                raise SourceError(f"{self.path}: {exc.strerror}") from None
        if self.speed == 0 and self._pass == 0 and self._raw_sink is not None:
            return self._bulk()
        now = self.clock()
        out: list = []
        wait: float | None = 0.0
        while len(out) < self.batch:
            if self._pending is None:
                self._pending = self._read()
            if self._pending is None:
                if not self._rewind():
                    wait = None
                    break
                continue
            recorded, payload = self._pending
            if self._first is None:
                self._first, self._real0 = recorded, now
            due = self._real0 + (recorded + self._shift - self._first) / self.speed \
                if self.speed else now
            if due > now:
                wait = due - now
                break
            out.append(payload)
            self._pending = None
        (self.emit_raw if self._raw_sink is not None else self.emit)(out)
        return wait

    def _bulk(self) -> float | None:
        """As fast as possible with a raw sink: whole chunks of lines, no per-line work."""
        lines = [line for line in self._file.readlines(CHUNK_BYTES) if line.strip()]
        if lines:
            self.emit_raw(lines)
            return 0.0
        if self.loop:
            self._pass_from_bulk()
            return 0.0
        self.close()
        return None

    def _pass_from_bulk(self) -> None:
        """Measure the span of the first pass (skipped on the bulk path) before looping."""
        self._file.seek(0)
        for line in self._file:
            recorded = _recorded_time(line)
            if recorded is not None:
                self._note(recorded)
        if self._span[2] == 0:
            raise SourceError(f"{self.path}: no line with a time to loop over")
        self._next_pass()

    def _read(self) -> tuple[float, Any] | None:
        """The next valid line as (recorded time, payload to hand over), None at the end."""
        for line in self._file:
            if not line.strip():
                continue
            if self._raw_sink is not None:
                recorded = _recorded_time(line)
                if recorded is None:
                    self.count_dropped(1, "line without a time")
                    continue
                self._note(recorded)
                return recorded, self._shifted_line(line, recorded) if self._pass else line
            try:
                record = orjson.loads(line)
                recorded = parse_time(record["time"])
            except (ValueError, TypeError, KeyError):   # orjson.JSONDecodeError included
                self.count_dropped(1, "malformed line")
                continue
            self._note(recorded)
            return recorded, self._shifted(record, recorded) if self._pass else record
        return None

    def _shifted(self, record: dict[str, Any], recorded: float) -> dict[str, Any]:
        """A record of a later pass: time shifted, ids suffixed."""
        record["time"] = recorded + self._shift
        for key in ("id", "in_reply_to"):
            if isinstance(record.get(key), str | int) and record[key] != "":
                record[key] = f"{record[key]}#{self._pass}"
        return record

    def _shifted_line(self, line: bytes, recorded: float) -> bytes:
        """A raw line of a later pass: time shifted, ids suffixed."""
        found = _TIME.search(line)
        if found is None:   # a time the pattern does not read (ISO 8601, RFC 2822)
            return orjson.dumps(self._shifted(orjson.loads(line), recorded))
        shifted = repr(recorded + self._shift).encode()
        line = line[:found.start(1)] + shifted + line[found.end(1):]
        suffix = f"#{self._pass}".encode()
        return _ID.sub(lambda m: m.group(0)[:-1] + suffix + b'"', line)

    def _note(self, recorded: float) -> None:
        low, high, count = self._span
        self._span = (min(low, recorded), max(high, recorded), count + 1)

    def _rewind(self) -> bool:
        """At the end of the file: start the next pass, or False when done."""
        if not self.loop:
            self.close()
            return False
        if self._span[2] == 0:
            raise SourceError(f"{self.path}: no valid line to loop over")
        self._next_pass()
        return True

    def _next_pass(self) -> None:
        low, high, count = self._span
        gap = (high - low) / (count - 1) if count > 1 and high > low else 1.0
        self._shift += high - low + gap
        self._pass += 1
        self._span = (float("inf"), float("-inf"), 0)
        self._file.seek(0)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _recorded_time(line: bytes) -> float | None:
    """A raw line's time in Unix seconds, read as the schema reads it; None when it has none."""
    found = _TIME.search(line)
    try:
        return parse_time(float(found.group(1)) if found else orjson.loads(line)["time"])
    except (ValueError, TypeError, KeyError):   # orjson.JSONDecodeError included
        return None
