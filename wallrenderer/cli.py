"""The `wallrenderer` command line: the one place that knows every role.

Each subcommand imports its heavy parts only when it runs: the controller
never loads GL, and only `wallrenderer renderer` imports moderngl and pyglet.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

# The demo's data: the simulator with three hours of history, so every window,
# chart and spike baseline has something to show from the first frame.
DEMO_SOURCE = "simulator?backfill=10800"
DEMO_SCENARIO = "monitoring"
# Long-running commands, stopped by a signal; they end without the interpreter's teardown.
NODES = frozenset({"demo", "controller", "relay", "renderer"})


def _demo(args: argparse.Namespace) -> int:
    from controller.demo import run_demo
    from controller.library import default_wall_path

    return run_demo(
        args.wall or str(default_wall_path()),
        args.scenarios,
        args.scenario,
        args.headless,
        args.out_dir,
        args.seconds,
        args.http,
        args.token,
        args.source or [DEMO_SOURCE],
        args.track or [],
        args.pin,
        args.tours,
        args.schedule,
    )


def _controller(args: argparse.Namespace) -> int:
    from controller.run import run_controller
    from wallrenderer.core.security import server_from_options

    curve = server_from_options(args.curve_secret, args.curve_allow)
    brands = [b.strip() for b in args.brands.split(",") if b.strip()] if args.brands else None
    return run_controller(
        args.wall, args.scenarios, args.scenario, args.bind, args.http, args.token, curve,
        args.source, brands, args.store, args.moderation, args.track, args.pin, args.tours,
        args.schedule,
    )


def _relay(args: argparse.Namespace) -> int:
    from controller.relay import run_relay
    from wallrenderer.core.security import client_from_options, server_from_options

    client = client_from_options(args.curve_secret, args.curve_server)
    server = server_from_options(args.curve_secret, args.curve_allow) if args.curve_allow else None
    if client is not None and server is None:
        logging.getLogger("wallrenderer.relay").warning(
            "CURVE upstream but plain downstream (no --curve-allow): the controller believes "
            "this relay about every renderer, and any client that reaches %s can speak for "
            "one (docs/security.md)", args.bind)
    return run_relay(args.upstream, args.bind, client, server)


def _renderer(args: argparse.Namespace) -> int:
    from wallrenderer.core.desktop import has_display

    if args.list_screens:
        from wallrenderer.renderer.screens import read_x_screen

        print(read_x_screen().describe())
        return 0
    missing = [f"--{name}" for name in ("connect", "display") if not getattr(args, name)]
    if missing:
        print(f"wallrenderer renderer: {' and '.join(missing)} required", file=sys.stderr)
        return 2
    from wallrenderer.core.security import client_from_options
    from wallrenderer.renderer.blanking import blanking_off
    from wallrenderer.renderer.cache import default_cache_path
    from wallrenderer.renderer.gl import WindowPlacement
    from wallrenderer.renderer.node import RendererOptions, run_renderer

    if args.fullscreen or args.windowed or args.headless:
        mode = "fullscreen" if args.fullscreen else "windowed" if args.windowed else "headless"
    else:
        # A panel PC with a display shows the wall; only a display-less machine runs headless.
        mode = "fullscreen" if has_display() else "headless"
    try:
        placement = WindowPlacement.parse(args.geometry) if args.geometry else None
    except ValueError as exc:
        print(f"wallrenderer renderer: --geometry: {exc}", file=sys.stderr)
        return 2
    fps = args.fps or (60.0 if mode != "headless" else 10.0)
    curve = client_from_options(args.curve_secret, args.curve_server)
    options = RendererOptions(
        args.connect, args.display, mode, args.screen, placement, args.as_mounted, fps, curve,
        Path(args.capture_dir).resolve(),
        None if args.cache == "none" else Path(args.cache or default_cache_path(args.display)),
    )
    if mode != "fullscreen":
        return run_renderer(options)
    with blanking_off():
        return run_renderer(options)


def _preview(args: argparse.Namespace) -> int:
    from PIL import Image

    from controller.library import default_wall_path, load_library
    from controller.sample import sample_frame
    from wallrenderer.core.layout.scenarios import scenario_from_data
    from wallrenderer.renderer.gl import create_headless_context
    from wallrenderer.renderer.preview import render_wall

    library = load_library(args.wall or default_wall_path(), args.scenarios)
    if args.scenario not in library.scenarios:
        known = ", ".join(sorted(library.scenarios))
        print(f"wallrenderer preview: no scenario {args.scenario!r} (have: {known})",
              file=sys.stderr)
        return 1
    scenario = scenario_from_data(library.scenarios[args.scenario], wall=library.wall)
    now = time.time()
    data = sample_frame(now, spike=args.spike)
    ctx = create_headless_context()
    try:
        image = render_wall(ctx, library.wall, scenario, data, now, args.max_side)
    finally:
        ctx.release()
    out = Path(args.out or f"{args.scenario}.png")
    Image.fromarray(image).save(out)
    print(f"wrote {out} ({image.shape[1]} x {image.shape[0]})")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from wallrenderer.core.layout.validate import validate_files

    problems = validate_files(args.files, args.wall or (), args.scenarios)
    for problem in problems:
        print(problem)
    errors = [p for p in problems if p.severity == "error" or args.strict]
    if not errors:
        print(f"{len(args.files)} file(s) valid", file=sys.stderr)
    return 1 if errors else 0


# `wallrenderer status` exit codes, for scripts and monitoring checks.
STATUS_OK, STATUS_NO_ANSWER, STATUS_PANEL_DOWN = 0, 1, 3


def _status(args: argparse.Namespace) -> int:
    while True:
        code = _status_once(args)
        if args.watch is None:
            return code
        try:
            time.sleep(args.watch)
        except KeyboardInterrupt:
            return code


def _status_once(args: argparse.Namespace) -> int:
    """Print the wall's state once; the exit code says whether every panel is up and current."""
    from wallrenderer.core.client import control_request
    from wallrenderer.core.security import client_from_options

    curve = client_from_options(args.curve_secret, args.curve_server)
    try:
        status = control_request(args.connect, "status", {}, timeout_s=args.timeout, curve=curve)
    except TimeoutError as exc:
        print(f"wallrenderer status: {exc}", file=sys.stderr, flush=True)
        return STATUS_NO_ANSWER
    down = [r["id"] for r in status["renderers"]
            if not r.get("connected") or r.get("stale_since") is not None]
    code = STATUS_PANEL_DOWN if down else STATUS_OK
    if args.json:
        print(json.dumps(status, indent=2), flush=True)
        return code
    if args.watch is not None:
        print(time.strftime("%H:%M:%S"))
    print(f"scenario: {status['scenario']}   epoch: {status['epoch']}   seq: {status['seq']}")
    columns = ("id", "connected", "fps", "frame_ms", "latency_ms", "clock_error_ms", "scenario",
               "activated_tick", "activated_at")
    rows = [[_cell(r.get(c)) for c in columns] for r in status["renderers"]]
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(columns)]
    for row in [list(columns), *rows]:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    if down:
        print(f"missing or stale: {', '.join(down)}")
    sys.stdout.flush()
    return code


def _switch(args: argparse.Namespace) -> int:
    from wallrenderer.core.client import TOKEN_ENV, controller_time, switch_scenario
    from wallrenderer.core.errors import WallError

    try:
        answer = switch_scenario(args.http, args.name, args.token or os.environ.get(TOKEN_ENV),
                                 args.timeout)
    except WallError as exc:
        print(f"wallrenderer switch: {exc}", file=sys.stderr)
        return 1
    print(f"switched to {answer['name']} at tick {answer['tick']} "
          f"({controller_time(answer['activates_at'])} controller time)")
    late = answer.get("not_acknowledged") or []
    if late:
        print(f"not ready in time: {', '.join(late)} (they switch as soon as they are ready)",
              file=sys.stderr)
    return 0


def _install_service(args: argparse.Namespace) -> int:
    from wallrenderer.core.systemd import service_files, write_service_files

    files = service_files(args.role, args.role_args, unit_dir=args.unit_dir, env_dir=args.env_dir,
                          user=args.user, x_display=args.x_display,
                          xauthority=args.xauthority,
                          token=args.token or os.environ.get("WALL_TOKEN"))
    if args.print:
        print(files.unit_text)
        return 0
    write_service_files(files)
    print(f"wrote {files.unit}" + (f" and {files.env} (mode 600)" if files.env else ""))
    print(f"now: systemctl daemon-reload && systemctl enable --now {files.unit.name}")
    return 0


def _tour(args: argparse.Namespace) -> int:
    if args.action == "start" and not args.name:
        print("wallrenderer tour: start needs the tour's NAME", file=sys.stderr)
        return 1
    path, body = {
        "start": ("/api/tour/start", {"name": args.name}),
        "resume": ("/api/tour/hold", {"held": False}),
    }.get(args.action, (f"/api/tour/{args.action}", {}))
    from wallrenderer.core.client import TOKEN_ENV, api_post

    answer = api_post(args.http, path, body, args.token or os.environ.get(TOKEN_ENV),
                      args.timeout)
    tour = answer.get("tour", answer) if args.action != "stop" else None
    if tour:
        state = "held" if tour["held"] else f"{tour['left_s']:.0f} s left"
        print(f"tour {tour['name']}: step {tour['step'] + 1}/{tour['steps']} "
              f"{tour['scenario']} ({state})")
    else:
        print(f"no tour; the wall shows {answer.get('scenario')}")
    return 0


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _curve_client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--curve-secret", metavar="FILE",
                        help="this node's NAME.key_secret (with --curve-server: CURVE on)")
    parser.add_argument("--curve-server", metavar="FILE",
                        help="the controller's (or relay's) public .key file")


def _api_client_options(parser: argparse.ArgumentParser) -> None:
    """Where a script finds the controller's HTTP API, and how long it waits for it."""
    from wallrenderer.core.client import DEFAULT_HTTP, TOKEN_ENV

    parser.add_argument("--http", default=DEFAULT_HTTP, metavar="HOST:PORT",
                        help=f"controller HTTP API, HOST:PORT or URL (default {DEFAULT_HTTP})")
    parser.add_argument("--token", metavar="T", help=f"API token (default: ${TOKEN_ENV})")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="S",
                        help="seconds to wait for the answer (default 10)")


def _http_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--http", metavar="HOST:PORT",
                        help="serve the HTTP control API there, e.g. 0.0.0.0:8080")
    parser.add_argument("--token", help="bearer token for changes (default: $WALL_TOKEN, "
                                        "else generated and printed)")
    parser.add_argument("--pin", help="PIN that unlocks the tablet page at / (default: "
                                      "$WALL_PIN; without one the page needs the token)")


def _tours_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tours", metavar="DIR",
                        help="folder of tour YAML (default: the shipped tours, when the "
                             "scenarios are the shipped ones)")
    parser.add_argument("--schedule", metavar="FILE",
                        help="schedule YAML: what the wall shows by time of day, day of week "
                             "and calendar (README, Schedules)")


def build_parser() -> argparse.ArgumentParser:
    """Subcommands and options of `wallrenderer`, as the README documents them."""
    parser = argparse.ArgumentParser(prog="wallrenderer", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--log-format", choices=("text", "json"), default="text",
                        help="json: one JSON object per line, for log shippers")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="controller + one renderer per panel on this machine")
    demo.add_argument("--wall", help="wall YAML (default: the shipped demo-2x2)")
    demo.add_argument("--scenarios", help="folder of scenario YAML (default: shipped)")
    demo.add_argument("--scenario", default=DEMO_SCENARIO,
                      help=f"scenario to show (default {DEMO_SCENARIO})")
    demo.add_argument("--headless", action="store_true",
                      help="no windows (automatic when there is no display)")
    demo.add_argument("--out-dir", default="wall-output", help="where headless PNGs go")
    demo.add_argument("--seconds", type=float,
                      help="headless: after S seconds write the PNGs and exit")
    _http_options(demo)
    _tours_option(demo)
    demo.add_argument("--source", action="append", metavar="SPEC",
                      help=f"data source (repeatable; default {DEMO_SOURCE})")
    demo.add_argument("--track", action="append", metavar="TERM",
                      help="campaign #hashtag or URL to count (repeatable; with the default "
                           "simulator and no --track: its campaign hashtag and launch video)")
    demo.set_defaults(run=_demo)

    ctl = sub.add_parser("controller", help="serve a wall to its renderers")
    ctl.add_argument("--wall", required=True, help="wall YAML")
    ctl.add_argument("--scenarios", help="folder of scenario YAML (default: shipped)")
    ctl.add_argument("--scenario", help="scenario to show first (default testcard)")
    ctl.add_argument("--bind", default="0.0.0.0:7700",
                     help="HOST:PORT; PUB on PORT, requests on PORT+1 (default 0.0.0.0:7700)")
    _http_options(ctl)
    _tours_option(ctl)
    ctl.add_argument("--source", action="append", metavar="SPEC",
                     help="data source, repeatable: simulator, replay:FILE, http:URL, "
                          "mastodon:HOST/tags/NAME, rss:URL, webhook (docs/sources.md)")
    ctl.add_argument("--brands", metavar="OURS,OTHER,...",
                     help="brands compared on the wall, ours first "
                          "(default acme,globex,initech,umbrella)")
    ctl.add_argument("--track", action="append", metavar="TERM",
                     help="campaign #hashtag or URL whose posts, reach and trend the wall "
                          "shows (repeatable)")
    ctl.add_argument("--store", metavar="FILE",
                     help="SQLite file keeping aggregates and the moderation queue "
                          "(default ~/.local/state/wallrenderer/WALL.sqlite)")
    ctl.add_argument("--moderation", metavar="FILE", help="moderation policy YAML")
    ctl.add_argument("--curve-secret", metavar="FILE",
                     help="controller's NAME.key_secret (with --curve-allow: CURVE on)")
    ctl.add_argument("--curve-allow", metavar="DIR",
                     help="folder of the public .key files of allowed renderers and clients")
    ctl.set_defaults(run=_controller)

    ren = sub.add_parser("renderer", help="draw one panel's slice of the wall")
    ren.add_argument("--connect", help="controller HOST or HOST:PORT (required)")
    ren.add_argument("--display", help="this panel's id, e.g. r0c1 (required)")
    mode = ren.add_mutually_exclusive_group()
    mode.add_argument("--fullscreen", action="store_true",
                      help="borderless fullscreen on monitor --screen N, cursor hidden, no "
                           "screen blanking (default when there is a display)")
    mode.add_argument("--windowed", action="store_true", help="in a window")
    mode.add_argument("--headless", action="store_true",
                      help="no window (EGL); default when there is no display")
    ren.add_argument("--screen", type=int, default=0,
                     help="monitor number for --fullscreen, as --list-screens numbers them")
    ren.add_argument("--list-screens", action="store_true",
                     help="print the monitors of the X screen DISPLAY names, and exit")
    ren.add_argument("--geometry", help="window WxH+X+Y for --windowed")
    ren.add_argument("--as-mounted", action="store_true",
                     help="preview: draw as the panel hangs, ignoring its rotation")
    ren.add_argument("--fps", type=float, help="frame rate cap (default 60; 10 headless)")
    ren.add_argument("--capture-dir", default=".", metavar="DIR",
                     help="captures are written only under this folder (default: the "
                          "working directory)")
    ren.add_argument("--cache", metavar="FILE",
                     help="last layout and data drawn, shown at a start without a controller "
                          "(default ~/.local/state/wallrenderer/renderer-ID.json; 'none': off)")
    _curve_client_options(ren)
    ren.set_defaults(run=_renderer)

    pre = sub.add_parser("preview", help="draw a scenario on a wall to a PNG, with simulated data")
    pre.add_argument("scenario", metavar="NAME", help="scenario name (from --scenarios)")
    pre.add_argument("--wall", help="wall YAML (default: the shipped demo-2x2)")
    pre.add_argument("--scenarios", help="folder of scenario YAML files (default: shipped)")
    pre.add_argument("--out", help="PNG to write (default NAME.png)")
    pre.add_argument("--spike", action="store_true", help="simulate a crisis spike in the data")
    pre.add_argument("--max-side", type=int, default=3840,
                     help="longest side of the image in pixels (default 3840)")
    pre.set_defaults(run=_preview)

    val = sub.add_parser("validate", help="check wall and scenario YAML files")
    val.add_argument("files", nargs="+", metavar="FILE")
    val.add_argument("--wall", action="append",
                     help="also check scenarios' display ids against this wall (repeatable)")
    val.add_argument("--scenarios", metavar="DIR",
                     help="scenario library that tour and schedule files are checked "
                          "against (default: the shipped one)")
    val.add_argument("--strict", action="store_true",
                     help="warnings fail too (text a bezel would cut, aspect mismatches)")
    val.set_defaults(run=_validate)

    from controller.relay import add_relay_parser

    relay = add_relay_parser(sub)
    _curve_client_options(relay)
    relay.add_argument("--curve-allow", metavar="DIR",
                       help="require CURVE downstream too: public keys allowed to connect here")
    relay.set_defaults(run=_relay)

    st = sub.add_parser("status", help="table of renderers as the controller sees them")
    st.add_argument("--connect", default="127.0.0.1:7700", help="controller HOST or HOST:PORT")
    st.add_argument("--json", action="store_true", help="print the raw JSON")
    st.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for an answer")
    st.add_argument("--watch", type=float, nargs="?", const=2.0, metavar="S",
                    help="print again every S seconds (default 2) until Ctrl-C")
    _curve_client_options(st)
    st.set_defaults(run=_status)

    switch = sub.add_parser(
        "switch", help="switch the wall to a scenario through the controller's HTTP API"
    )
    switch.add_argument("name", metavar="NAME", help="scenario to show")
    _api_client_options(switch)
    switch.set_defaults(run=_switch)

    from wallrenderer.calibration.command import add_calibrate_parser

    add_calibrate_parser(sub)

    svc = sub.add_parser("install-service",
                         help="write a systemd unit running a controller or renderer",
                         usage="wallrenderer install-service {controller,renderer} [options] "
                               "-- ROLE OPTIONS...")
    svc.add_argument("role", choices=("controller", "renderer"))
    svc.add_argument("--unit-dir", default="/etc/systemd/system", metavar="DIR")
    svc.add_argument("--env-dir", default="/etc/wallrenderer", metavar="DIR",
                     help="where the token's environment file goes (root only, mode 600)")
    svc.add_argument("--user", help="run as this user (a renderer: the X session's user)")
    svc.add_argument("--x-display", default=":0", metavar=":D[.S]",
                     help="renderer: the X display (default :0)")
    svc.add_argument("--xauthority", metavar="FILE", help="renderer: the X session's cookie file")
    svc.add_argument("--token", help="controller: API token (default $WALL_TOKEN), kept in the "
                                     "environment file, never in the unit")
    svc.add_argument("--print", action="store_true", help="print the unit instead of writing it")
    svc.set_defaults(run=_install_service)

    tour = sub.add_parser("tour", help="start, stop, step or hold a visitor tour "
                                       "through the controller's HTTP API")
    tour.add_argument("action", choices=("start", "stop", "next", "previous", "hold", "resume"))
    tour.add_argument("name", nargs="?", metavar="NAME", help="tour to start")
    _api_client_options(tour)
    tour.set_defaults(run=_tour)

    from wallrenderer.core.security import add_keys_parser

    add_keys_parser(sub)
    return parser


class _JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC), level, role, logger, message."""

    def __init__(self, role: str):
        super().__init__()
        self.role = role

    def format(self, record: logging.LogRecord) -> str:
        import datetime

        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
            .isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "role": self.role,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `wallrenderer` console script; returns the exit code."""
    words = sys.argv[1:] if argv is None else argv
    if next((w for w in words if not w.startswith("-")), None) in NODES:
        from wallrenderer.core.shutdown import stop_on_signals

        # Before any heavy import: an interrupt inside an import can hang it for good.
        stop_on_signals()
    from wallrenderer.core.errors import WallError

    argv = sys.argv[1:] if argv is None else list(argv)
    # install-service passes everything after `--` to the role's command line, verbatim.
    role_args: list[str] = []
    if argv[:1] == ["install-service"] and "--" in argv:
        split = argv.index("--")
        argv, role_args = argv[:split], argv[split + 1:]
    args = build_parser().parse_args(argv)
    args.role_args = role_args
    role = getattr(args, "display", None) or args.command
    handler = logging.StreamHandler()
    handler.setFormatter(_JsonLogFormatter(role) if args.log_format == "json" else
                         logging.Formatter(f"%(asctime)s {role} %(levelname)s %(name)s: "
                                           "%(message)s"))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        handlers=[handler])
    try:
        code = args.run(args)
    except WallError as exc:
        print(f"wallrenderer {args.command}: {exc}", file=sys.stderr)
        return 1
    if args.command in NODES:
        from wallrenderer.core.shutdown import exit_now

        exit_now(code)  # a stop must be quick, and the node has cleaned up after itself
    return code
