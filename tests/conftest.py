"""Shared fixtures: test folders are pytest markers, GL contexts come from the app's own factory."""

from __future__ import annotations

from pathlib import Path

import pytest

FOLDER_MARKERS = {"unit", "gl", "integration"}


def pytest_collection_modifyitems(config, items):
    """Each test carries the marker of its folder, so `-m unit` selects exactly tests/unit."""
    for item in items:
        folder = Path(str(item.fspath)).parent.name
        if folder not in FOLDER_MARKERS:
            raise pytest.UsageError(f"{item.nodeid}: tests live in one of {sorted(FOLDER_MARKERS)}")
        item.add_marker(getattr(pytest.mark, folder))


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Controllers the tests start keep their thumbnails in a test folder, not the user's cache."""
    import os

    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(autouse=True)
def fresh_machine(monkeypatch, tmp_path):
    """Each test runs as on a display-less machine with no state from earlier runs.

    A renderer with no mode flag goes fullscreen when there is a display, so a
    developer's own DISPLAY would put test windows over their desktop; a test
    that wants X starts its own. Renderers keep a cold-start cache under
    XDG_STATE_HOME, which must not carry one test's wall into the next.
    """
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
