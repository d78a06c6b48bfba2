"""Running under systemd: readiness and watchdog keep-alives, and the unit files that ask for them.

The notify protocol is one datagram per message to the socket in
`$NOTIFY_SOCKET` (a leading `@` means Linux's abstract namespace), so it is a
few lines here rather than a dependency. Units are `Type=notify` with
`WatchdogSec`: the controller loop and each render loop send `WATCHDOG=1`
as they turn, so a loop that hangs (not only a process that dies) is
restarted.
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from wallrenderer.core.errors import WallError

WATCHDOG_SEC = 15
DEFAULT_UNIT_DIR = "/etc/systemd/system"
DEFAULT_ENV_DIR = "/etc/wallrenderer"


class SystemdNotifier:
    """`READY=1` once, then `WATCHDOG=1` at half the watchdog interval; silent without systemd."""

    def __init__(self, environ: dict[str, str] | None = None):
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self.address = "\0" + address[1:] if address.startswith("@") else address
        usec = env.get("WATCHDOG_USEC", "")
        watched_pid = env.get("WATCHDOG_PID", "")
        watched = usec.isdigit() and (not watched_pid or watched_pid == str(os.getpid()))
        self.kick_every_s = int(usec) / 2e6 if watched else None
        self.next_kick = 0.0
        self.sock: socket.socket | None = None
        if self.address:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    def notify(self, message: str) -> None:
        if self.sock is None:
            return
        try:
            self.sock.sendto(message.encode(), self.address)
        except OSError:
            pass  # systemd gone or restarting: the loop must not care

    def ready(self) -> None:
        """Tell systemd the service is up (its loop is about to turn)."""
        self.notify("READY=1")

    def kick(self) -> None:
        """Call every loop turn; sends the keep-alive only as often as the watchdog needs."""
        if self.kick_every_s is None:
            return
        now = time.monotonic()
        if now >= self.next_kick:
            self.notify("WATCHDOG=1")
            self.next_kick = now + self.kick_every_s

    def stopping(self) -> None:
        self.notify("STOPPING=1")


@dataclass(frozen=True)
class ServiceFiles:
    """What `install-service` writes: the unit and, when there is a secret, its environment file."""

    unit: Path
    unit_text: str
    env: Path | None
    env_text: str | None


def service_files(role: str, role_args: list[str], *, unit_dir: str = DEFAULT_UNIT_DIR,
                  env_dir: str = DEFAULT_ENV_DIR, user: str | None = None,
                  x_display: str = ":0", xauthority: str | None = None,
                  token: str | None = None, executable: str | None = None) -> ServiceFiles:
    """The unit (and environment file) that run `wallrenderer ROLE ROLE_ARGS` under systemd.

    Raises:
        WallError: a renderer without `--display ID` (its unit is named after it).
    """
    name = "wallrenderer-controller"
    if role == "renderer":
        display = _option(role_args, "--display")
        if not display:
            raise WallError("install-service renderer: pass the renderer's --display ID")
        name = f"wallrenderer-renderer-{display}"
    command = [executable] if executable else _wallrenderer_command()
    env_file = Path(env_dir) / f"{name}.env" if token else None
    lines = [
        "[Unit]",
        f"Description=wallrenderer {role}" + (f" {_option(role_args, '--display')}"
                                              if role == "renderer" else ""),
        "Wants=network-online.target",
        "After=network-online.target" + (" display-manager.service" if role == "renderer"
                                         else ""),
        "StartLimitIntervalSec=0",
        "",
        "[Service]",
        "Type=notify",
        "NotifyAccess=main",
        f"ExecStart={shlex.join([*command, role, *role_args])}",
        "Restart=always",
        "RestartSec=2",
        f"WatchdogSec={WATCHDOG_SEC}",
        "StateDirectory=wallrenderer",
        "WorkingDirectory=%S/wallrenderer",
    ]
    if user:
        lines.append(f"User={user}")
    if role == "renderer":
        lines.append(f"Environment=DISPLAY={x_display}")
        if xauthority:
            lines.append(f"Environment=XAUTHORITY={xauthority}")
    if env_file is not None:
        lines.append(f"EnvironmentFile={env_file}")
    lines += ["", "[Install]",
              f"WantedBy={'graphical.target' if role == 'renderer' else 'multi-user.target'}", ""]
    env_text = f"WALL_TOKEN={token}\n" if token else None
    return ServiceFiles(Path(unit_dir) / f"{name}.service", "\n".join(lines), env_file, env_text)


def write_service_files(files: ServiceFiles) -> None:
    """Write the unit (0644) and the environment file (0600, root's alone: it holds the token)."""
    files.unit.parent.mkdir(parents=True, exist_ok=True)
    files.unit.write_text(files.unit_text)
    files.unit.chmod(0o644)
    if files.env is not None:
        files.env.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(files.env, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(files.env_text)
        files.env.chmod(0o600)


def _option(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _wallrenderer_command() -> list[str]:
    """The installed console script beside this Python (a venv's), else `python -m wallrenderer`."""
    script = Path(sys.executable).with_name("wallrenderer")
    return [str(script)] if script.exists() else [sys.executable, "-m", "wallrenderer"]
