"""GLSL loading: shader files from `shaders/`, `#include` resolved, programs cached per context.

Shaders are loaded at run time so a wall can be re-skinned without a rebuild;
errors print the numbered source that the driver compiled, with `#line`
directives keeping the driver's line numbers pointing at the original files.
"""

from __future__ import annotations

import re
from pathlib import Path

from wallrenderer.core.errors import WallError
from wallrenderer.core.resources import builtin_path

MAX_INCLUDE_DEPTH = 8
_INCLUDE = re.compile(r'^\s*#include\s+"([^"]+)"\s*$')


class ShaderError(WallError):
    """A shader file that cannot be loaded or compiled; the message shows where."""


def shader_dir() -> Path:
    """Shipped shader folder (installed copy first, else the checkout)."""
    return builtin_path("shaders")


def load_source(name: str, root: Path | None = None) -> str:
    """Source of one shader stage with includes expanded.

    The file must start with `#version`; each included file is numbered as its
    own source string (`#line N S`) so compile errors name the right line.
    """
    return load_stage(name, root)[0]


def load_stage(name: str, root: Path | None = None) -> tuple[str, list[str]]:
    """Expanded source and the files behind it; file i is GLSL source string i."""
    root = root or shader_dir()
    path = root / name
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ShaderError(f"cannot read shader {path}: {exc.strerror}") from None
    if not lines or not lines[0].startswith("#version"):
        raise ShaderError(f"{path}:1: a shader stage must start with #version")
    files = [name]
    body = _expand(root, name, lines[1:], 2, files, depth=0)
    return "\n".join([lines[0], *body]) + "\n", files


def _expand(
    root: Path, name: str, lines: list[str], first_line: int, files: list[str], depth: int
) -> list[str]:
    source_number = files.index(name)
    out = [f"#line {first_line} {source_number}"]
    for offset, line in enumerate(lines):
        match = _INCLUDE.match(line)
        if not match:
            out.append(line)
            continue
        if depth >= MAX_INCLUDE_DEPTH:
            raise ShaderError(f"{root / name}:{first_line + offset}: includes nested too deep")
        child = match.group(1)
        try:
            child_lines = (root / child).read_text().splitlines()
        except OSError as exc:
            raise ShaderError(
                f"{root / name}:{first_line + offset}: cannot include {child!r}: {exc.strerror}"
            ) from None
        if child not in files:
            files.append(child)
        out += _expand(root, child, child_lines, 1, files, depth + 1)
        out.append(f"#line {first_line + offset + 1} {source_number}")
    return out


def numbered(source: str) -> str:
    """Source with line numbers, as printed when a compile fails."""
    return "\n".join(f"{i:4d}  {line}" for i, line in enumerate(source.splitlines(), 1))


def _listing(root: Path, files: list[str]) -> str:
    """Each file behind a stage, numbered as the driver's `source:line` messages count."""
    return "\n".join(
        f"--- source {i}: {name} ---\n{numbered((root / name).read_text())}"
        for i, name in enumerate(files)
    )


class ProgramCache:
    """Linked programs for one GL context, keyed by their stage files.

    Linking is slow on software rasterisers, and several visuals share a
    program, so each (vertex, fragment) pair is built once per context.
    """

    def __init__(self, ctx, root: Path | None = None):
        self.ctx = ctx
        self.root = root
        self._programs: dict[tuple[str, str], object] = {}

    def get(self, vertex: str, fragment: str):
        key = (vertex, fragment)
        if key not in self._programs:
            root = self.root or shader_dir()
            vs, vs_files = load_stage(vertex, root)
            fs, fs_files = load_stage(fragment, root)
            try:
                self._programs[key] = self.ctx.program(vertex_shader=vs, fragment_shader=fs)
            except Exception as exc:  # moderngl raises its own Error with the driver log
                raise ShaderError(
                    f"cannot build program {vertex} + {fragment}:\n{exc}\n\n"
                    f"vertex stage:\n{_listing(root, vs_files)}\n\n"
                    f"fragment stage:\n{_listing(root, fs_files)}"
                ) from None
        return self._programs[key]

    def release(self) -> None:
        for program in self._programs.values():
            program.release()
        self._programs.clear()
