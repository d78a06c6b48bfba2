"""The packages' import rules (docs/architecture.md, "Packages"), read from the code itself.

- `wallrenderer.core` (what both nodes share) imports neither node nor the command line;
- the renderer (`wallrenderer.renderer`) and the controller (`controller`) never import
  each other, nor the command line;
- only the command line (`wallrenderer.cli`, `wallrenderer.__main__`) knows every role;
- no module imports itself back through others (no import loops), lazy imports included;
- the pure steps import neither GL, windows nor sockets;
- only `wallrenderer.calibration` imports OpenCV, an optional extra; it is a tool
  beside the nodes, built on the core alone.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("wallrenderer", "controller")

FORBIDDEN = {
    "wallrenderer.core": ("wallrenderer.renderer", "wallrenderer.cli", "controller"),
    "wallrenderer.renderer": ("controller", "wallrenderer.cli"),
    "controller": ("wallrenderer.renderer", "wallrenderer.cli"),
    "wallrenderer.calibration": ("wallrenderer.renderer", "controller", "wallrenderer.cli"),
}
PURE = (
    "wallrenderer.core.geometry",
    "wallrenderer.core.layout",
    "wallrenderer.core.protocol",
    "wallrenderer.core.dataframe",
    "wallrenderer.core.timing",
    "controller.frames",
    "controller.aggregate",
    "controller.posts",
)
HEAVY = ("moderngl", "pyglet", "zmq")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module `name` imports, at the top or inside functions, resolved to our modules."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                child = f"{base}.{alias.name}"
                out.add(child if child in MODULES else base)
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_the_reader_finds_the_imports_it_must_judge():
    assert "wallrenderer.core.geometry" in GRAPH["wallrenderer.core.layout.walls"]
    assert "controller.library" in GRAPH["controller.run"]
    assert "controller.run" in GRAPH["wallrenderer.cli"]  # a lazy import inside a function
    assert "moderngl" in GRAPH["wallrenderer.renderer.gl"]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_or_beside_it(layer):
    wrong = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items() if _within(module, layer)
        for target in targets for banned in FORBIDDEN[layer] if _within(target, banned)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_import_loops():
    """Tarjan's strongly connected components over our modules: every one must be a single file."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in GRAPH[module]:
            if target not in GRAPH or target == module:
                continue
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == module:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in GRAPH:
        if module not in index:
            visit(module)
    assert not loops, "import loops: " + "; ".join(" <-> ".join(c) for c in loops)


@pytest.mark.parametrize("module", PURE)
def test_pure_steps_import_no_gl_windows_or_sockets(module):
    heavy = [
        f"{name} imports {target}"
        for name, targets in GRAPH.items() if _within(name, module)
        for target in targets if target.split(".")[0] in HEAVY
    ]
    assert not heavy, "\n".join(heavy)


def test_only_calibration_imports_opencv():
    wrong = [f"{name} imports cv2" for name, targets in GRAPH.items() if "cv2" in targets
             and not _within(name, "wallrenderer.calibration")]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("imported", "absent"),
    [
        ("controller.run", ("moderngl", "pyglet", "wallrenderer.renderer", "cv2")),
        ("wallrenderer.cli", ("moderngl", "pyglet", "zmq", "controller", "wallrenderer.renderer",
                              "cv2")),
    ],
)
def test_importing_a_role_loads_only_what_it_needs(imported, absent):
    """The controller never loads GL; the command line loads a role only when it runs."""
    code = (f"import sys, {imported}; "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {absent!r} "
            f"or m in {absent!r}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True, cwd=ROOT)
    assert result.stdout.strip() == "[]"
