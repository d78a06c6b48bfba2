"""The data path's endpoints: webhook posts, simulator crisis, alerts and moderation.

They need a controller started with `--source` (404 otherwise). Reads that show
unmoderated posts (the queue, the audit log) need the token or a session like
changes do, and every audited action records who did it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from controller.http.auth import change, read_body
from controller.http.bodies import IdBody, RejectBody, SpikeBody, parse_body
from controller.http.errors import ApiError, json_response
from controller.sources.webhook import MAX_BODY_BYTES as WEBHOOK_MAX_BODY_BYTES
from controller.sources.webhook import WebhookError
from wallrenderer.core.errors import WallError

log = logging.getLogger("controller.http")

AUDIT_RECORDS = 200


def _pipeline(request: Request):
    pipeline = getattr(request.app.state.api.controller, "pipeline", None)
    if pipeline is None:
        raise ApiError(404, "this controller has no data sources (start it with --source)")
    return pipeline


@change
async def post_ingest(request: Request) -> Response:
    """Webhook posts into the data path."""
    webhook = _pipeline(request).webhook
    if webhook is None:
        raise ApiError(404, "no webhook source: start the controller with --source webhook")
    body = await read_body(request, WEBHOOK_MAX_BODY_BYTES)
    try:   # decoding and validating megabytes would hold the event loop: a worker thread
        return json_response(await run_in_threadpool(webhook.ingest, body))
    except WebhookError as exc:
        raise ApiError(exc.status, str(exc)) from None


@change
async def post_spike(request: Request) -> Response:
    """A crisis spike in the simulator."""
    simulator = _pipeline(request).simulator
    if simulator is None:
        raise ApiError(404, "no simulator source to inject a spike into")
    options = parse_body(await read_body(request), SpikeBody).model_dump(exclude_none=True)
    try:
        result = simulator.inject_spike(**options)
    except WallError as exc:
        raise ApiError(400, str(exc)) from None
    log.info("spike injected over HTTP by %s: %s", request.state.who, options)
    return json_response(result)


@change
async def post_alert_ack(request: Request) -> Response:
    """Mark an alert as seen, under the caller's name."""
    alert_id = parse_body(await read_body(request), IdBody).id
    if not _pipeline(request).acknowledge(alert_id, request.state.who):
        raise ApiError(404, f"no alert {alert_id!r}")
    return json_response({"id": alert_id, "acknowledged": True, "by": request.state.who})


@change
async def get_moderation_queue(request: Request) -> Response:
    """Posts waiting for approval (unmoderated: token or session only)."""
    return json_response({"queue": _pipeline(request).moderator.queue()})


@change
async def post_moderation_approve(request: Request) -> Response:
    """Release a queued post to the feed."""
    post_id = parse_body(await read_body(request), IdBody).id
    pipeline = _pipeline(request)
    post = pipeline.moderator.approve(post_id, request.state.who)
    if post is None:
        raise ApiError(404, f"no queued post {post_id!r}")
    pipeline.add_to_feed(post)
    return json_response({"approved": post})


@change
async def post_moderation_reject(request: Request) -> Response:
    """Drop a queued post for good."""
    body = parse_body(await read_body(request), RejectBody)
    if not _pipeline(request).moderator.reject(body.id, request.state.who, body.reason):
        raise ApiError(404, f"no queued post {body.id!r}")
    return json_response({"id": body.id, "rejected": True})


@change
async def get_moderation_audit(request: Request) -> Response:
    """What was hidden, approved or rejected, and by whom."""
    records = _pipeline(request).moderator.audit.recent(AUDIT_RECORDS)
    return json_response({"audit": [asdict(r) for r in records]})


ROUTES = [
    Route("/api/ingest", post_ingest, methods=["POST"]),
    Route("/api/spike", post_spike, methods=["POST"]),
    Route("/api/alerts/ack", post_alert_ack, methods=["POST"]),
    Route("/api/moderation/queue", get_moderation_queue, methods=["GET"]),
    Route("/api/moderation/approve", post_moderation_approve, methods=["POST"]),
    Route("/api/moderation/reject", post_moderation_reject, methods=["POST"]),
    Route("/api/moderation/audit", get_moderation_audit, methods=["GET"]),
]
