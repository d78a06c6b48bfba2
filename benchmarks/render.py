"""Frame time of every shipped scenario on one 1920x1080 panel, rendered headless.

Prints one JSON object as its last line:
{"scenarios": {NAME: {"median_ms": ..., "p95_ms": ..., "draw_calls": ...}}, ...}
Each frame is timed to completion (`ctx.finish()`), so on a software
rasteriser the figure is the real cost of a frame.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from controller.library import default_wall_path, load_library
from wallrenderer.config import scenario_from_data
from wallrenderer.gl import create_headless_context, release_framebuffer
from wallrenderer.scene import PanelView


def measure(ctx, view: PanelView, fbo, frames: int, budget_s: float) -> list[float]:
    times = []
    deadline = time.perf_counter() + budget_s
    for i in range(frames):
        start = time.perf_counter()
        view.render(i / 60.0, fbo)
        ctx.finish()
        times.append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--display", default="r0c0", help="panel of the demo wall to render")
    parser.add_argument("--frames", type=int, default=240, help="frames per scenario at most")
    parser.add_argument("--budget", type=float, default=8.0, help="seconds per scenario at most")
    args = parser.parse_args()

    library = load_library(default_wall_path())
    wall = library.wall
    ctx = create_headless_context()
    results = {}
    for name, data in sorted(library.scenarios.items()):
        view = PanelView(ctx, wall, args.display)
        fbo = ctx.simple_framebuffer(view.panel.resolution)
        view.set_scenario(scenario_from_data(data, wall=wall))
        measure(ctx, view, fbo, 10, args.budget)
        times = np.array(measure(ctx, view, fbo, args.frames, args.budget)) * 1000
        results[name] = {
            "median_ms": round(float(np.median(times)), 3),
            "p95_ms": round(float(np.percentile(times, 95)), 3),
            "draw_calls": view.draw_calls,
            "frames": len(times),
        }
        print(f"{name}: {results[name]}")
        view.release()
        release_framebuffer(ctx, fbo)
    print(json.dumps({
        "scenarios": results,
        "panel": f"{wall.name}/{args.display} {wall.panel(args.display).resolution}",
        "renderer": ctx.info["GL_RENDERER"],
    }))


if __name__ == "__main__":
    main()
