"""`wallrenderer preview`: a scenario drawn on a wall to a PNG, as an operator runs it."""

from __future__ import annotations

import subprocess

import numpy as np
from conftest import wall_command
from PIL import Image

from wallrenderer.core.resources import builtin_path


def test_preview_writes_the_whole_wall_with_data(tmp_path):
    out = tmp_path / "hub.png"
    hub = builtin_path("layouts", "walls", "hub-3x2.yaml")
    done = subprocess.run(
        wall_command("preview", "monitoring", "--wall", str(hub), "--out", str(out),
                     "--max-side", "1200"),
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stdout
    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape[1] == 1200 and 440 <= image.shape[0] <= 460
    # Every panel shows widgets (cards are lighter than the background).
    for row in (0, 1):
        for col in (0, 1, 2):
            cell = image[row * 225:(row + 1) * 225, col * 400:(col + 1) * 400]
            assert (cell.max(axis=-1) > 60).mean() > 0.02, (row, col)


def test_preview_names_the_scenarios_it_has_when_asked_for_another(tmp_path):
    done = subprocess.run(wall_command("preview", "nope", "--out", str(tmp_path / "x.png")),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "no scenario 'nope'" in done.stderr and "monitoring" in done.stderr
    assert not (tmp_path / "x.png").exists()
