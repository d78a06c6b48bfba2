"""Honest source health: what a source cannot read makes it degraded, what it drops is shown.

Real requests to a local server (`tests/services.py`); the status line is the
renderer's own function over the frame's `sources`.
"""

from __future__ import annotations

import logging

import pytest
from services import Answer, Collector

from controller.sources.base import SourceError
from controller.sources.http import HttpSource
from controller.sources.rss import RssSource
from wallrenderer.renderer.reports import source_status_line

HTML = "<!doctype html><html><head><title>Acme</title></head><body><p>Hi</p></body></html>"
NOW = 1795219200.0


def html_page(request):
    """An HTML page that revalidates like any web server: 304 for its own ETag."""
    if request.headers.get("If-None-Match") == '"page-1"':
        return Answer(304, b"", {"ETag": '"page-1"'})
    return Answer(200, HTML, {"Content-Type": "text/html", "ETag": '"page-1"',
                              "Last-Modified": "Sat, 21 Nov 2026 10:00:00 GMT"})


@pytest.mark.parametrize("kind", [RssSource, HttpSource])
def test_a_body_that_cannot_be_read_is_fetched_again_and_stays_an_error(service, kind):
    service.routes["/news"] = html_page
    source = kind(service.url("/news"))
    for _ in range(3):
        with pytest.raises(SourceError, match="unreadable feed|malformed JSON"):
            source.poll()
    assert all("If-None-Match" not in r.headers and "If-Modified-Since" not in r.headers
               for r in service.requests), "validators of a body that was not used"


def test_a_source_stays_degraded_while_its_document_cannot_be_read(service, sources):
    service.routes["/news"] = html_page
    source = RssSource(service.url("/news"), interval=0.01, backoff=0.01, backoff_max=0.02)
    sources.append(source)
    source.start(Collector())
    while len(service.requests) < 6:
        assert source.status()["state"] in ("starting", "degraded")
    assert source.status()["state"] == "degraded"
    assert "unreadable feed" in source.status()["last_error"]


def posts(n_good: int, n_bad: int) -> list[dict]:
    good = [{"id": f"g{i}", "time": NOW + i, "text": "fine"} for i in range(n_good)]
    bad = [{"id": f"b{i}", "time": f"last {i} tuesday", "text": "no time"} for i in range(n_bad)]
    return good + bad


def test_a_source_dropping_most_items_reads_warning_with_reasons_and_examples(service, caplog):
    answer = {"posts": posts(2, 8)}
    service.routes["/api"] = lambda r: Answer(200, answer)
    source = HttpSource(service.url("/api"))
    got = Collector()
    source.attach(got)
    source._succeeded()
    with caplog.at_level(logging.WARNING, "controller.sources.base"):
        source.poll()
        answer["posts"] = posts(4, 8)[2:4] + [{"id": "c1", "time": NOW, "language": "english!"}]
        source.poll()
    status = source.status()
    assert status["state"] == "warning" and status["drop_share"] == pytest.approx(8 / 13, 1e-3)
    assert (status["ingested"], status["dropped"]) == (5, 8)
    assert status["drops"] == {"time: not a time after 1970 and at most a day ahead": {
        "count": 8, "field": "time", "example": "last 0 tuesday"}}
    assert status["field_warnings"] == {"language: not a BCP-47 tag": {
        "count": 1, "field": "language", "example": "english!"}}
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 2, "each reason once per interval, not once per item or poll"
    assert "dropped 8 (time: not a time" in logged[0] and "last 0 tuesday" in logged[0]

    answer["posts"] = posts(400, 0)                 # the recent items are fine again
    source.poll()
    assert source.status()["state"] == "ok" and source.status()["dropped"] == 8


def test_the_status_line_names_degraded_and_warning_sources():
    assert source_status_line([{"name": "rss:a", "state": "ok"}]) is None
    line = source_status_line([
        {"name": "rss:a", "state": "degraded"},
        {"name": "http:b", "state": "warning", "drop_share": 0.84,
         "drop_reason": "urls: Expected `array`, got `str`"},
        {"name": "webhook", "state": "ok"}, "junk"])
    assert line == ("degraded: rss:a \u00b7 warning: http:b drops 84% "
                    "(urls: Expected `array`, got `str`)")
