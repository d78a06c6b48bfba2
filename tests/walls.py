"""Small test walls shared by GL and process tests (small panels keep llvmpipe fast)."""

SMALL_GRID_WALL = {
    "wall": {
        "name": "small-2x2",
        "grid": {
            "rows": 2,
            "cols": 2,
            "panel": {
                "resolution": [320, 180],
                "active_mm": [201.6, 113.4],
                "bezel_mm": {"left": 3.0, "right": 3.0, "top": 2.0, "bottom": 2.0},
            },
        },
    }
}

MIXED_WALL = {
    "wall": {
        "name": "mixed",
        "panels": [
            {"id": "portrait", "position_mm": [0, 0], "active_mm": [113.4, 201.6],
             "resolution": [320, 180], "rotation": 90},
            {"id": "upside", "position_mm": [120, 0], "active_mm": [201.6, 113.4],
             "resolution": [320, 180], "rotation": 180},
            {"id": "fine", "position_mm": [120, 120], "active_mm": [201.6, 113.4],
             "resolution": [640, 360]},
            {"id": "left", "position_mm": [330, 0], "active_mm": [113.4, 201.6],
             "resolution": [320, 180], "rotation": 270},
        ],
    }
}

# Panels big enough for widget text to be legible in test images, small enough for llvmpipe.
WIDGET_WALL = {
    "wall": {
        "name": "widgets-2x2",
        "grid": {
            "rows": 2,
            "cols": 2,
            "panel": {
                "resolution": [640, 360],
                "active_mm": [403.2, 226.8],
                "bezel_mm": {"left": 3.0, "right": 3.0, "top": 2.0, "bottom": 2.0},
            },
        },
    }
}
