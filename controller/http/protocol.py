"""uvicorn's HTTP/1.1 protocol, answering requests it cannot parse with JSON like the rest."""

from __future__ import annotations

import sys

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from controller.http.errors import JSON_TYPE, json_bytes


class JsonErrorH11Protocol(H11Protocol):
    """A malformed request (bad Content-Length, broken request line) gets a JSON 400."""

    def send_400_response(self, msg: str) -> None:
        # Called while h11's RemoteProtocolError is handled: it says what was wrong.
        cause = sys.exc_info()[1]
        body = json_bytes({"error": f"bad request: {cause or msg}"})
        headers = [(b"content-type", JSON_TYPE.encode()), (b"connection", b"close"),
                   (b"content-length", str(len(body)).encode())]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
                      h11.Data(data=body), h11.EndOfMessage()):
            self.transport.write(self.conn.send(event))
        self.transport.close()
