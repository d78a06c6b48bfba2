"""Frame time of every shipped scenario on 1920x1080 panels, rendered headless, with live data.

Prints one JSON object as its last line:
{"scenarios": {NAME: {"median_ms", "p95_ms", "draw_calls", "panel"}}, ...}
NAME is a shipped scenario, or `multilingual-feed`: `monitoring` with its feed
in the wall's languages and emoji, a new post every second.
Every panel of the shipped 2x2 demo wall is drawn in turn and the busiest
one (highest median) is reported. Data changes as on a live wall: the
volume figures 10 times a second, every other field once a second (new
posts in the feed, a new point in the series), so the figures include the
widgets' rebuilds, not only drawing. Each frame is timed to completion
(`ctx.finish()`), so on a software rasteriser it is the real cost of a frame.

With --previews, the renderer also answers the tablet's live preview as it
does on a wall: once per PREVIEW_INTERVAL_S of frames it draws the frame again
offscreen, reads it back and encodes the small JPEG; that cost is counted in
the frame that pays it, and "mean_ms" shows what it adds per frame on average.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from typing import Any

import numpy as np

from controller.http.livewall import PREVIEW_INTERVAL_S, PREVIEW_SIDE
from controller.library import default_wall_path, load_library
from controller.sample import sample_frame, world_text
from wallrenderer.core.layout.scenarios import scenario_from_data
from wallrenderer.core.wallimage import encode_preview
from wallrenderer.renderer.gl import create_headless_context, release_framebuffer
from wallrenderer.renderer.scene import PanelView, read_rgb

FPS = 60
# The monitoring scenario with a feed in the wall's languages (Arabic, Hebrew, Hindi,
# Thai, CJK, colour emoji...), a new post every second.
MULTILINGUAL = "multilingual-feed"
PREVIEW_COSTS: list[float] = []  # seconds per preview answer, over every panel measured


def multilingual(frame: dict[str, Any], seed: int = 13) -> dict[str, Any]:
    """The frame with every feed post rewritten in the wall's languages, emoji and all."""
    rng = random.Random(seed)
    feed = [{**post, "text": world_text(rng), "author": world_text(rng)[:24]}
            for post in frame.get("feed") or []]
    return {**frame, "feed": feed}


def evolve(frame: dict[str, Any], i: int, rng: random.Random | None = None) -> dict[str, Any]:
    """The data frame after rendered frame `i`: changed fields get new values, as deltas do."""
    out = dict(frame)
    if i % (FPS // 10) == 0:
        volume = dict(frame["volume"])
        volume["total"] = {k: v + 1 for k, v in volume["total"].items()}
        out["volume"] = volume
        out["totals"] = {**frame["totals"], "ingested": frame["totals"]["ingested"] + 1}
    if i % FPS == 0:
        feed = frame.get("feed") or []
        out["feed"] = feed[-1:] + feed[:-1]
        if rng is not None and feed:  # a new multilingual post, as a live stream brings
            out["feed"][0] = {**feed[-1], "id": f"new-{i}", "text": world_text(rng)}
        series = dict(frame["series"])
        series["by_brand"] = {b: v[1:] + v[:1] for b, v in series["by_brand"].items()}
        out["series"] = series
        for key in ("share_of_voice", "sentiment", "countries", "hashtags", "terms", "authors",
                    "response"):
            out[key] = json.loads(json.dumps(frame[key]).replace("0.", "0.0", 1))
    return out


def measure(ctx, view: PanelView, fbo, data: dict, start: float, frames: int,
            budget_s: float, rng: random.Random | None = None,
            preview_side: int | None = None) -> list[float]:
    """Frame times; with `preview_side`, a live-preview answer once per preview interval."""
    times = []
    every = round(PREVIEW_INTERVAL_S * FPS)
    deadline = time.perf_counter() + budget_s
    for i in range(frames):
        data = evolve(data, i, rng)
        view.set_data(data)
        begin = time.perf_counter()
        view.render(start + i / FPS, fbo)
        ctx.finish()
        if preview_side is not None and i % every == every // 2:
            answered = time.perf_counter()
            view.render(start + i / FPS, fbo)
            encode_preview(read_rgb(fbo), preview_side)
            PREVIEW_COSTS.append(time.perf_counter() - answered)
        times.append(time.perf_counter() - begin)
        if time.perf_counter() > deadline:
            break
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120, help="frames per panel at most")
    parser.add_argument("--budget", type=float, default=6.0, help="seconds per panel at most")
    parser.add_argument("--scenario", action="append", help="only these scenarios")
    parser.add_argument("--previews", action="store_true",
                        help="answer the tablet's live preview as a renderer does")
    args = parser.parse_args()

    library = load_library(default_wall_path())
    wall = library.wall
    now = time.time()
    data = sample_frame(now)
    ctx = create_headless_context()
    results = {}
    scale = PREVIEW_SIDE / max(wall.canvas)
    preview_side = round(scale * max(max(p.resolution) for p in wall.panels))
    runs = [(name, name, data, False) for name in sorted(library.scenarios)]
    runs.append((MULTILINGUAL, "monitoring", multilingual(data), True))
    for name, scenario_name, frame, stream in runs:
        if args.scenario and name not in args.scenario:
            continue
        scenario = scenario_from_data(library.scenarios[scenario_name], wall=wall)
        worst = None
        for panel in wall.panels:
            view = PanelView(ctx, wall, panel.id)
            fbo = ctx.simple_framebuffer(view.panel.resolution)
            view.set_scenario(scenario)
            rng = random.Random(7) if stream else None
            previews = preview_side if args.previews else None
            measure(ctx, view, fbo, frame, now, 10, args.budget, rng)
            times = np.array(measure(ctx, view, fbo, frame, now, args.frames, args.budget,
                                     rng, previews)) * 1000
            figures = {
                "median_ms": round(float(np.median(times)), 3),
                "mean_ms": round(float(np.mean(times)), 3),
                "p95_ms": round(float(np.percentile(times, 95)), 3),
                "draw_calls": view.draw_calls,
                "frames": len(times),
                "panel": panel.id,
            }
            if worst is None or figures["median_ms"] > worst["median_ms"]:
                worst = figures
            view.release()
            release_framebuffer(ctx, fbo)
        results[name] = worst
        print(f"{name}: {worst}", flush=True)
    print(json.dumps({
        "scenarios": results,
        "wall": f"{wall.name} ({len(wall.panels)} panels of {wall.panels[0].resolution})",
        "renderer": ctx.info["GL_RENDERER"],
        "previews": {"side": preview_side, "every_s": PREVIEW_INTERVAL_S,
                     "answer_ms": round(1000 * float(np.median(PREVIEW_COSTS)), 3)}
        if PREVIEW_COSTS else None,
    }))


if __name__ == "__main__":
    main()
