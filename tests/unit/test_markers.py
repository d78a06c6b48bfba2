"""The calibration markers: OpenCV's own dictionary, laid out so every panel can be told apart."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from wallrenderer.core.markers import (
    DICTIONARY,
    DICTIONARY_SIZE,
    MARKERS_PER_PANEL,
    MAX_PANELS,
    marker_bits,
    native_pattern,
    panel_markers,
    split_id,
)


def test_the_shipped_bits_are_opencvs_dictionary():
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, DICTIONARY))
    assert DICTIONARY_SIZE == 1000
    for marker in range(DICTIONARY_SIZE):
        image = cv2.aruco.generateImageMarker(dictionary, marker, 7)
        assert np.array_equal(marker_bits(marker), image[1:6, 1:6] > 127), marker


@pytest.mark.parametrize("resolution", [(1920, 1080), (3840, 2160), (480, 270), (1080, 1920)])
def test_markers_fit_their_panel_apart_from_each_other_and_the_name(resolution):
    width, height = resolution
    markers = panel_markers(3, resolution)
    assert len(markers) == MARKERS_PER_PANEL
    assert [split_id(m.id) for m in markers] == [(3, slot) for slot in range(MARKERS_PER_PANEL)]
    for m in markers:
        quiet = m.size // 7
        assert quiet <= m.u and m.u + m.size + quiet <= width
        assert quiet <= m.v and m.v + m.size + quiet <= height
        in_middle = (width / 3 < m.u + m.size / 2 < 2 * width / 3
                     and height / 3 < m.v + m.size / 2 < 2 * height / 3)
        assert not in_middle, "the middle third shows the panel's name"


def test_opencv_reads_every_marker_of_a_panel_where_it_was_drawn():
    image = np.pad(native_pattern(7, (960, 540)), 20)
    detector = cv2.aruco.ArucoDetector(
        cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, DICTIONARY)))
    corners, ids, _ = detector.detectMarkers(image)
    found = dict(zip(ids.ravel().tolist(), corners, strict=True))
    for marker in panel_markers(7, (960, 540)):
        # OpenCV puts pixel centres at whole numbers; ours are at +0.5.
        assert np.abs(found[marker.id].reshape(4, 2) + 0.5 - 20 - marker.corners()).max() < 1.0


def test_a_wall_beyond_the_dictionary_is_refused():
    panel_markers(MAX_PANELS - 1, (1920, 1080))
    with pytest.raises(ValueError, match="at most 125 panels"):
        panel_markers(MAX_PANELS, (1920, 1080))


def test_calibrate_without_opencv_says_how_to_install_it(tmp_path):
    code = ("import sys; sys.modules['cv2'] = None; from wallrenderer.cli import main; "
            "sys.exit(main(['calibrate', 'photo.jpg', '--wall', 'w.yaml', '--out', 'o.yaml']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert done.returncode == 1
    assert "pip install 'wallrenderer[calibrate]'" in done.stderr
