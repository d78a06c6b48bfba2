"""Finds the layouts and shaders shipped with wallrenderer, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the wallrenderer package


def builtin_path(*parts: str) -> Path:
    """Path of shipped data such as ``builtin_path("layouts", "walls", "demo-2x2.yaml")``.

    A wheel carries ``layouts/`` and ``shaders/`` inside the package as ``_data/``;
    a source checkout keeps them beside the package. The installed copy wins.

    Args:
        parts: path components below the data root.

    Returns:
        The installed path when it exists, else the path in the source checkout.
    """
    installed = _PACKAGE_DIR.joinpath("_data", *parts)
    if installed.exists():
        return installed
    return _PACKAGE_DIR.parent.joinpath(*parts)
