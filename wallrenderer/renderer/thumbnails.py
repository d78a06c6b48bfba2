"""The thumbnail worker: draws scenarios for the tablet's buttons, in a process of its own.

The controller never loads GL, so it runs ``python -m wallrenderer.renderer.thumbnails``
and sends one JSON job a line on stdin: ``{"wall", "scenario", "data", "t",
"max_side", "out"}``. The worker draws the whole wall with the renderers' own code
(`render_wall`), writes the PNG to ``out`` (atomically) and answers one JSON line,
``{"ok": true}`` or ``{"error": "..."}``. It runs at a lower priority, so the
renderers on the same machine keep their frame rate, and ends at end of input.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def draw(ctx, job: dict) -> None:
    """Draw one job's scenario and write it where the job says."""
    from PIL import Image

    from wallrenderer.core.layout.scenarios import scenario_from_data
    from wallrenderer.core.layout.walls import wall_from_data
    from wallrenderer.renderer.preview import render_wall

    wall = wall_from_data(job["wall"])
    scenario = scenario_from_data(job["scenario"], wall=wall)
    image = render_wall(ctx, wall, scenario, job.get("data") or {}, float(job["t"]),
                        int(job["max_side"]))
    out = Path(job["out"])
    partial = out.with_name(out.name + ".part")
    Image.fromarray(image).save(partial, format="PNG", optimize=True)
    partial.replace(out)


def main() -> int:
    """Answer jobs from stdin until it ends."""
    from wallrenderer.renderer.gl import create_headless_context

    os.nice(10)
    ctx = create_headless_context()
    try:
        for line in sys.stdin:
            try:
                draw(ctx, json.loads(line))
                answer = {"ok": True}
            except Exception as exc:  # one bad scenario must not end the worker
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(answer), flush=True)
    finally:
        ctx.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
