"""Bad scenarios and bad orders never take a renderer or the controller down."""

from __future__ import annotations

import requests
from conftest import wait_for, wall_command, write_yaml
from walls import SMALL_GRID_WALL

from controller.demo import free_port_pair
from controller.library import MAX_SCENARIO_BYTES, load_library
from wallrenderer.core.client import control_request

TOKEN = "t"


def status(connect: str):
    try:
        return control_request(connect, "status", {}, timeout_s=1.5)
    except TimeoutError:
        return None


def showing(connect: str, display: str, scenario: str):
    current = status(connect)
    rows = {r["id"]: r for r in (current or {}).get("renderers", [])}
    row = rows.get(display, {})
    return row if row.get("synced") and row.get("scenario") == scenario else None


def test_bad_fonts_never_stop_a_renderer(tmp_path, spawn):
    """A missing font falls back to the default; a file that is no font keeps the old scenario."""
    (tmp_path / "broken.ttf").write_text("this is not a font")
    wall = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    for name, font in (("missing", tmp_path / "none.ttf"), ("broken", tmp_path / "broken.ttf")):
        write_yaml(tmp_path / "scenarios" / f"{name}.yaml", {"scenario": {"name": name, "widgets": [
            {"kind": "text", "cells": "r0c0", "text": "hi", "font": str(font)}]}})
    connect, http = f"127.0.0.1:{free_port_pair()}", free_port_pair()
    spawn(wall_command("controller", "--wall", str(wall), "--scenarios",
                       str(tmp_path / "scenarios"), "--bind", connect,
                       "--http", f"127.0.0.1:{http}", "--token", TOKEN))
    renderer = spawn(wall_command("renderer", "--connect", connect, "--display", "r0c0"))
    wait_for(lambda: showing(connect, "r0c0", "testcard"), 60, "the renderer")

    def switch(name: str) -> dict:
        answer = requests.post(f"http://127.0.0.1:{http}/api/scenario", json={"name": name},
                               headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        assert answer.status_code == 200
        return answer.json()

    assert switch("missing")["acknowledged"] == ["r0c0"]
    wait_for(lambda: showing(connect, "r0c0", "missing"), 10, "the default font to stand in")
    assert switch("broken")["not_acknowledged"] == ["r0c0"]
    wait_for(lambda: (s := status(connect)) and s["scenario"] == "broken", 10, "the commit")
    assert renderer.poll() is None, "the renderer must survive a scenario it cannot build"
    assert showing(connect, "r0c0", "missing"), "and keep showing what it had"


def test_a_capture_into_an_unwritable_place_is_reported_not_fatal(tmp_path, spawn):
    wall = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    connect = f"127.0.0.1:{free_port_pair()}"
    spawn(wall_command("controller", "--wall", str(wall), "--bind", connect))
    renderer = spawn(wall_command("renderer", "--connect", connect, "--display", "r0c0"))
    wait_for(lambda: showing(connect, "r0c0", "testcard"), 60, "the renderer")
    result = control_request(connect, "capture", {"dir": str(blocker / "sub")}, timeout_s=30)
    assert result["missing"] == ["r0c0", "r0c1", "r1c0", "r1c1"]
    assert "r0c0" in result["errors"]
    assert renderer.poll() is None
    good = control_request(connect, "capture", {"dir": str(tmp_path / "ok")}, timeout_s=30)
    assert "r0c0" in good["paths"]


def test_unreadable_oversized_and_malformed_scenarios_are_left_out_with_a_reason(tmp_path):
    wall = write_yaml(tmp_path / "wall.yaml", SMALL_GRID_WALL)
    folder = tmp_path / "scenarios"
    write_yaml(folder / "ok.yaml", {"scenario": {"name": "ok", "widgets": [{"kind": "testcard"}]}})
    write_yaml(folder / "huge.yaml", {"scenario": {"name": "huge", "widgets": [
        {"kind": "text", "cells": "r0c0", "text": "x" * (MAX_SCENARIO_BYTES + 10)}]}})
    (folder / "binary.yaml").write_bytes(b"\xff\xfe\x00junk")
    (folder / "tag.yaml").write_text("scenario:\n  name: tag\n  widgets:\n    - kind: rect\n"
                                     "      rect: [!!float abc, 0, 1, 1]\n")
    (folder / "deep.yaml").write_text("scenario: " + "[" * 3000)
    library = load_library(wall, folder)
    assert sorted(library.scenarios) == ["calibration", "calibration-colour", "ok", "safe-screen",
                                         "testcard"]
    text = "\n".join(library.problems)
    assert "huge.yaml" in text and "limit" in text
    assert "binary.yaml: cannot read" in text
    assert "tag.yaml:5:" in text
    assert "deep.yaml" in text
