"""Request bodies: read with a size limit, parsed as strict JSON, validated by pydantic.

Each model names an example body and, per field, what a valid value is, so a
client gets one clear sentence (`"seconds" must be a number from 1 to 3600,
got 0`) instead of pydantic's error list.
"""

from __future__ import annotations

import json
from typing import Annotated, ClassVar, TypeVar

from pydantic import BaseModel, Field, StringConstraints, ValidationError

from controller.http.errors import ApiError
from wallrenderer.core.protocol import reject_json_constant

MAX_BODY_BYTES = 64 * 1024

Name = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1,
                                        max_length=200)]


class Body(BaseModel):
    """A JSON object body; subclasses set EXAMPLE and MESSAGES."""

    EXAMPLE: ClassVar[str] = "{}"
    MESSAGES: ClassVar[dict[str, str]] = {}


class SwitchBody(Body):
    """POST /api/scenario."""
    EXAMPLE = '{"name": SCENARIO}'
    MESSAGES = {"name": "must be a non-empty string"}
    name: Name


class TourStartBody(Body):
    """POST /api/tour/start: a tour by name, or scenarios and seconds."""
    EXAMPLE = '{"name": TOUR} or {"scenarios": [A, B], "seconds": 30}'
    MESSAGES = {"name": "must be a non-empty string",
                "scenarios": "must be a non-empty list of scenario names",
                "seconds": "must be a number from 1 to 3600"}
    name: Name | None = None
    scenarios: Annotated[list[Name], Field(min_length=1, max_length=100)] | None = None
    seconds: Annotated[float, Field(strict=True, ge=1.0, le=3600.0)] = 30.0


class TourHoldBody(Body):
    """POST /api/tour/hold: hold the current step (the default), or release it."""
    EXAMPLE = '{"held": true} or {"held": false}'
    MESSAGES = {"held": "must be true (hold the step) or false (release it)"}
    held: Annotated[bool, Field(strict=True)] = True


class SpikeBody(Body):
    """POST /api/spike: a simulated crisis."""
    EXAMPLE = '{"kind": "negative", "brand": "acme", "minutes": 10}'
    MESSAGES = {"kind": "must be a non-empty string", "brand": "must be a non-empty string",
                "minutes": "must be a number from 0.5 to 1440",
                "factor": "must be a number from 1 to 100",
                "terms": "must be a list of at most 20 strings"}
    kind: Name | None = None
    brand: Name | None = None
    minutes: Annotated[float, Field(strict=True, ge=0.5, le=1440.0)] | None = None
    factor: Annotated[float, Field(strict=True, ge=1.0, le=100.0)] | None = None
    terms: Annotated[list[Annotated[str, Field(strict=True)]], Field(max_length=20)] | None = None


class IdBody(Body):
    """A post or alert by id."""
    EXAMPLE = '{"id": ID}'
    MESSAGES = {"id": "must be a non-empty string"}
    id: Name


class RejectBody(IdBody):
    """POST /api/moderation/reject."""
    EXAMPLE = '{"id": ID, "reason": "why"}'
    MESSAGES = {**IdBody.MESSAGES, "reason": "must be a string"}
    reason: Annotated[str, StringConstraints(strict=True, max_length=500)] = ""


class LoginBody(Body):
    """POST /api/session: the PIN and a name for the audit log."""
    EXAMPLE = '{"pin": PIN, "name": "front tablet"}'
    MESSAGES = {"pin": "must be a non-empty string", "name": "must be a string of at most 40"}
    pin: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=64)]
    name: Annotated[str, StringConstraints(strict=True, strip_whitespace=True,
                                           max_length=40)] = ""


Gain = Annotated[float, Field(strict=True, ge=0.0, le=4.0)]


class ColourBody(Body):
    """POST /api/panel/colour: one panel's colour; a setting left out keeps its value."""
    EXAMPLE = '{"panel": ID, "gain": [1, 0.97, 0.95], "gamma": 1, "brightness": 0.96}'
    MESSAGES = {"panel": "must be a panel id", "gain": "must be 3 numbers from 0 to 4",
                "gamma": "must be a number from 0.2 to 5",
                "brightness": "must be a number from 0 to 4", "save": "must be true or false"}
    panel: Name
    gain: tuple[Gain, Gain, Gain] | None = None
    gamma: Annotated[float, Field(strict=True, ge=0.2, le=5.0)] | None = None
    brightness: Annotated[float, Field(strict=True, ge=0.0, le=4.0)] | None = None
    save: Annotated[bool, Field(strict=True)] = False


B = TypeVar("B", bound=Body)


def parse_body(raw: bytes, model: type[B]) -> B:
    """`raw` as a `model`; an empty body is allowed when every field has a default.

    Raises:
        ApiError: 400 saying what is wrong and what to send.
    """
    example = model.EXAMPLE
    if not raw.strip():
        try:
            return model()
        except ValidationError:
            raise ApiError(400, f"missing JSON body: send {example}") from None
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=reject_json_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ApiError(400, f"body is not valid JSON ({exc}); send {example}") from None
    if not isinstance(body, dict):
        raise ApiError(400, f"body must be a JSON object: send {example}")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ApiError(400, _sentence(model, body, exc.errors()[0])) from None


def _sentence(model: type[Body], body: dict, error: dict) -> str:
    field = str(error["loc"][0]) if error["loc"] else ""
    if error["type"] == "missing" and len(error["loc"]) == 1:
        return f'missing "{field}": send {model.EXAMPLE}'
    rule = model.MESSAGES.get(field, error["msg"])
    got = json.dumps(body.get(field), ensure_ascii=False)
    if len(got) > 60:
        got = got[:57] + "..."
    return f'"{field}" {rule}, got {got}'
