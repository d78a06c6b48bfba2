"""Where a renderer may write a capture: only under its own configured folder.

A capture order names a folder, and anyone who can reach the controller's
request socket can order one; without this check every renderer would
create and write into whatever folder the order names.
"""

from __future__ import annotations

import os
from pathlib import Path


def capture_path(root: Path, requested: str, display: str) -> Path:
    """The PNG for `display` in folder `requested`, resolved inside `root`.

    A relative folder is taken inside `root`; an absolute one must lie inside it.

    Raises:
        PermissionError: the folder lies outside `root` (`..`, another absolute path, a symlink).
    """
    root = Path(os.path.realpath(root))
    folder = Path(os.path.realpath(root / requested))
    if folder != root and root not in folder.parents:
        raise PermissionError(f"capture folder {requested!r} is outside this renderer's "
                              f"capture folder {root} (see --capture-dir)")
    return folder / f"{display}.png"
