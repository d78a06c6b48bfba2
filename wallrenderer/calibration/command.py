"""The `wallrenderer calibrate` subcommand: show the patterns, measure a photo, nudge colours."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from wallrenderer.core.client import DEFAULT_HTTP, TOKEN_ENV, control_request, switch_scenario
from wallrenderer.core.errors import WallError

MARKERS_SCENARIO = "calibration"
COLOUR_SCENARIO = "calibration-colour"


def add_calibrate_parser(sub) -> argparse.ArgumentParser:
    """`calibrate`'s options, as the README's "Calibration" section documents them."""
    cal = sub.add_parser(
        "calibrate", help="measure panel positions and rotations from one photo; match colours")
    cal.add_argument("photo", nargs="?", metavar="PHOTO",
                     help="photo of the whole wall showing the calibration scenario")
    cal.add_argument("--wall", metavar="NOMINAL",
                     help="the wall as ordered (grid or explicit panels, same order)")
    cal.add_argument("--out", metavar="MEASURED.yaml", help="explicit-panel wall file to write")
    cal.add_argument("--show", action="store_true",
                     help="switch the running wall to the calibration markers (HTTP API)")
    cal.add_argument("--colour", "--color", action="store_true", dest="colour",
                     help="switch the running wall to grey and colour fields; with --panel, "
                          "nudge that panel's colour instead")
    cal.add_argument("--panel", metavar="ID", help="with --colour: the panel to nudge")
    cal.add_argument("--gain", type=float, nargs=3, metavar=("R", "G", "B"))
    cal.add_argument("--gamma", type=float)
    cal.add_argument("--brightness", type=float)
    cal.add_argument("--save", action="store_true",
                     help="with --panel: also save the colour into the controller's wall file")
    cal.add_argument("--http", default=DEFAULT_HTTP, metavar="HOST:PORT",
                     help=f"controller HTTP API for --show/--colour (default {DEFAULT_HTTP})")
    cal.add_argument("--token", metavar="T", help=f"API token (default: ${TOKEN_ENV})")
    cal.add_argument("--connect", default="127.0.0.1:7700", metavar="HOST:PORT",
                     help="controller for --panel nudges (default 127.0.0.1:7700)")
    cal.set_defaults(run=run_calibrate)
    return cal


def run_calibrate(args: argparse.Namespace) -> int:
    """Dispatch on what was asked; exit code for the command line."""
    if args.panel is not None:
        if not args.colour:
            raise WallError("--panel nudges a colour: give --colour too")
        return _nudge(args)
    if args.show or args.colour:
        name = MARKERS_SCENARIO if args.show else COLOUR_SCENARIO
        answer = switch_scenario(args.http, name, args.token or os.environ.get(TOKEN_ENV))
        print(f"the wall shows {answer['name']}")
        if args.show:
            print("take one photo of the whole wall from the front, then run: wallrenderer "
                  "calibrate PHOTO --wall NOMINAL.yaml --out MEASURED.yaml")
        else:
            print("nudge a panel: wallrenderer calibrate --colour --panel ID --gain R G B "
                  "[--gamma G] [--brightness B] [--save]")
        return 0
    if not (args.photo and args.wall and args.out):
        raise WallError("give PHOTO, --wall NOMINAL and --out MEASURED.yaml "
                        "(or --show, or --colour)")
    return _measure(args.photo, args.wall, args.out)


def _measure(photo: str, nominal: str, out: str) -> int:
    from wallrenderer.calibration.report import measure, report

    measured = measure(photo, nominal)
    text = measured.yaml()
    print(report(measured))
    Path(out).write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(measured.specs)} panels, {measured.seconds:.1f} s)")
    return 0


def _nudge(args: argparse.Namespace) -> int:
    body = {"panel": args.panel, "save": args.save}
    for key in ("gain", "gamma", "brightness"):
        if getattr(args, key) is not None:
            body[key] = getattr(args, key)
    try:
        answer = control_request(args.connect, "colour", body)
    except TimeoutError as exc:
        raise WallError(str(exc)) from None
    if "error" in answer:
        print(f"wallrenderer calibrate: {answer['error']}", file=sys.stderr)
        return 1
    gain = " ".join(f"{g:g}" for g in answer["gain"])
    print(f"{answer['panel']}: gain {gain}, gamma {answer['gamma']:g}, "
          f"brightness {answer['brightness']:g}")
    if answer["saved"]:
        print(f"saved into {answer['saved']}")
    return 0
