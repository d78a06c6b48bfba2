"""`--track` from the command line to the aggregates, also those restored from the store."""

# Test names say what each test checks; docstrings would repeat them.

from __future__ import annotations

import time

import pytest

from controller.pipeline import DataPipeline
from controller.posts import from_dicts
from controller.sources.simulator import SimulatorSource
from controller.store import Store
from wallrenderer.cli import build_parser
from wallrenderer.core.errors import WallError

VIDEO = "https://acme.example/launch-video"


def test_track_is_repeatable_on_the_controller_and_the_demo():
    parser = build_parser()
    controller = parser.parse_args(["controller", "--wall", "w.yaml", "--track", "#acmelaunch",
                                    "--track", VIDEO])
    assert controller.track == ["#acmelaunch", VIDEO]
    assert parser.parse_args(["demo", "--track", VIDEO]).track == [VIDEO]
    assert parser.parse_args(["demo"]).track is None  # the demo then picks the simulator's


def test_a_restart_with_another_track_list_applies_it_and_keeps_the_terms_that_remain(tmp_path):
    now = time.time()

    def pipeline(store: Store, tracked: list[str]) -> DataPipeline:
        return DataPipeline([], ["acme", "globex"], lambda delta: None, store, tracked=tracked)

    with Store(tmp_path / "state.sqlite") as store:
        first = pipeline(store, ["#acmelaunch", VIDEO])
        first.aggregator.ingest(from_dicts([
            {"id": "a", "time": now, "hashtags": ["acmelaunch"], "followers": 5},
            {"id": "b", "time": now, "urls": [VIDEO + "?utm_source=social"], "followers": 7},
        ])[0])
        first.stop()
        campaign = pipeline(store, [VIDEO, "#acmeday"]).aggregator.frame(now)["campaign"]
    assert campaign["terms"] == [VIDEO, "#acmeday"]
    assert campaign["by_term"][VIDEO] == {"1h": 1, "24h": 1, "reach_1h": 7}
    assert campaign["by_term"]["#acmeday"]["24h"] == 0
    assert campaign["reach"] == {"1h": 7, "24h": 7}


def test_tracking_a_term_at_run_time_keeps_every_figure_and_counts_it_from_then_on():
    now = time.time()
    pipeline = DataPipeline([], ["acme", "globex"], lambda delta: None, tracked=[VIDEO])
    pipeline.ingest(*from_dicts([{"id": "a", "time": now, "urls": [VIDEO], "followers": 7,
                                  "hashtags": ["acmelaunch"]}]))
    assert pipeline.track("#AcmeLaunch") is True
    assert pipeline.track("#acmelaunch") is False, "one term, whatever its case"
    pipeline.ingest(*from_dicts([{"id": "b", "time": now, "hashtags": ["AcmeLaunch"],
                                  "followers": 5}]))
    campaign = pipeline.aggregator.frame(now)["campaign"]
    assert campaign["terms"] == [VIDEO, "#AcmeLaunch"]
    assert campaign["by_term"][VIDEO]["1h"] == 1, "the figures from before are kept"
    assert campaign["by_term"]["#AcmeLaunch"]["1h"] == 1, "counted from the moment it is tracked"
    with pytest.raises(WallError, match="cannot track 'launch'"):
        pipeline.track("launch")


def test_a_malformed_track_term_stops_the_pipeline_with_a_reason():
    with pytest.raises(WallError, match="--track: tracked term 'acmelaunch' is neither"):
        DataPipeline([], ["acme"], lambda delta: None, tracked=["acmelaunch"])


def test_the_simulator_campaign_shares_its_launch_video_sometimes_with_a_tracking_tag():
    sim = SimulatorSource(seed=4, start=1_700_000_000.0, rate=60)
    assert sim.campaign_terms == ["#acmelaunch", VIDEO]
    posts = sim.generate_until(1_700_000_000.0 + 6 * 3600)
    campaign = [p for p in posts if "acmelaunch" in p["hashtags"]]
    shared = [p for p in campaign if any(u.startswith(VIDEO) for u in p["urls"])]
    assert 0.2 < len(shared) / len(campaign) < 0.4
    tagged = sum(VIDEO + "?utm_source=social" in p["urls"] for p in shared)
    assert 0 < tagged < len(shared)
    assert all(VIDEO in p["text"] for p in shared)
    others = [p for p in posts if "acmelaunch" not in p["hashtags"]]
    assert not any(VIDEO in u for p in others for u in p["urls"])
