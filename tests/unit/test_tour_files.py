"""Tour files: steps, captions and params checked with file, line and field; params applied."""

from __future__ import annotations

import pytest

from wallrenderer.core.layout.params import apply_params
from wallrenderer.core.layout.problems import LayoutError
from wallrenderer.core.layout.scenarios import scenario_from_data
from wallrenderer.core.layout.tours import tour_from_text
from wallrenderer.core.layout.validate import validate_files

MONITORING = {"scenario": {"name": "monitoring", "widgets": [
    {"kind": "kpi", "rect": [0, 0, 0.5, 0.5], "label": "Us", "value": "volume.by_brand.{own}.1h"},
    {"kind": "gauge", "rect": [0.5, 0, 0.5, 0.5]},
    {"kind": "gauge", "rect": [0.5, 0.5, 0.5, 0.5], "path": "sentiment.net"},
]}}
PLAIN = {"scenario": {"name": "plain", "widgets": [{"kind": "testcard"}]}}
LIBRARY = {"monitoring": MONITORING, "plain": PLAIN}
TOUR = """\
tour:
  name: visitor
  steps:
    - scenario: plain
      seconds: 40
      caption: "Every conversation about us, live"
    - scenario: monitoring
      seconds: 30
      params: {brand: globex}
"""


def test_a_tour_file_gives_steps_with_their_own_durations():
    tour = tour_from_text(TOUR, scenarios=LIBRARY)
    assert tour.name == "visitor" and tour.loop
    assert [(s.scenario, s.seconds) for s in tour.steps] == [("plain", 40), ("monitoring", 30)]
    assert tour.steps[0].caption.startswith("Every") and tour.steps[1].params == {"brand": "globex"}


@pytest.mark.parametrize(("before", "after", "where", "message"), [
    ("scenario: plain", "scenario: nope", "t.yaml:4: tour.steps[0].scenario:", "no scenario"),
    ("seconds: 30", "seconds: 0", "t.yaml:8: tour.steps[1].seconds:", "greater than or equal"),
    ("{brand: globex}", "{colour: red}", "t.yaml:9: tour.steps[1].params.colour:",
     "unknown parameter"),
    ("seconds: 40", "secs: 40", "t.yaml:5: tour.steps[0].secs:", "unknown key"),
])
def test_bad_tour_files_say_file_line_and_field(before, after, where, message):
    with pytest.raises(LayoutError) as error:
        tour_from_text(TOUR.replace(before, after), "t.yaml", LIBRARY)
    assert f"{where} " in str(error.value) and message in str(error.value)


def test_a_brand_param_needs_a_scenario_with_brand_bound_widgets():
    text = TOUR.replace("scenario: monitoring", "scenario: plain")
    with pytest.raises(LayoutError, match=r"t.yaml:9: tour.steps\[1\].params.brand: .*plain"):
        tour_from_text(text, "t.yaml", LIBRARY)


def test_params_make_brand_bound_widgets_follow_the_brand_and_add_the_caption():
    data = apply_params(MONITORING, {"brand": "globex"}, "For visitors")
    kpi, gauge, by_path, caption = data["scenario"]["widgets"]
    assert kpi["value"] == "volume.by_brand.globex.1h"
    assert gauge["brand"] == "globex" and "brand" not in by_path
    assert caption == {"kind": "caption", "text": "For visitors"}
    assert MONITORING["scenario"]["widgets"][0]["value"].endswith("{own}.1h"), "a copy"
    assert len(scenario_from_data(data).widgets) == 4, "the variant is a valid scenario"


def test_validate_checks_tour_files_against_the_scenario_library(tmp_path):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "plain.yaml").write_text("scenario:\n  name: plain\n  widgets:\n"
                                          "    - kind: testcard\n")
    good = tmp_path / "good.yaml"
    good.write_text(TOUR.split("    - scenario: monitoring")[0])
    assert validate_files([good], scenarios_dir=scenarios) == []
    bad = tmp_path / "bad.yaml"
    bad.write_text(TOUR)
    problems = validate_files([bad], scenarios_dir=scenarios)
    assert [str(p) for p in problems] == [
        f"{bad}:7: tour.steps[1].scenario: no scenario 'monitoring' (have: plain)"]
