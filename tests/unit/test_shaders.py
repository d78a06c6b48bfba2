"""Shader loader (no GL): #version required, #include expanded, #line keeps original numbering."""

# Test names say what each test checks; docstrings would repeat them.

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wallrenderer.renderer.shaders import (
    MAX_INCLUDE_DEPTH,
    ShaderError,
    load_source,
    numbered,
    shader_dir,
)

pytestmark = pytest.mark.unit

LINE = re.compile(r"^#line (\d+) (\d+)$")
INCLUDE = re.compile(r'^\s*#include\s+"([^"]+)"\s*$')
SHIPPED = sorted(p.name for p in shader_dir().glob("*.glsl"))


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def source_files(root: Path, name: str) -> list[str]:
    """Files in the order the loader numbers them: the stage, then includes depth first."""
    order: list[str] = []

    def visit(n: str) -> None:
        if n not in order:
            order.append(n)
        for line in (root / n).read_text().splitlines():
            m = INCLUDE.match(line)
            if m:
                visit(m.group(1))

    visit(name)
    return order


def check_line_directives(root: Path, name: str, source: str) -> None:
    """Play the driver: after `#line N S` the next line is line N of string S; check each line."""
    files = source_files(root, name)
    originals = [(root / f).read_text().splitlines() for f in files]
    out = source.splitlines()
    assert out[0] == originals[0][0] and out[0].startswith("#version")
    line, string = 2, 0
    for text in out[1:]:
        m = LINE.match(text)
        if m:
            line, string = int(m.group(1)), int(m.group(2))
            continue
        assert 1 <= line <= len(originals[string]), (files[string], line, text)
        assert text == originals[string][line - 1], (files[string], line)
        line += 1


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_shader_loads_with_version_first_and_no_include_left(name):
    source = load_source(name)
    assert source.startswith("#version")
    assert source.splitlines()[0].startswith("#version")
    assert not any(INCLUDE.match(line) for line in source.splitlines())
    assert "#include" not in source
    check_line_directives(shader_dir(), name, source)


def test_shipped_shader_folder_has_vertex_and_fragment_stages():
    assert any(n.endswith(".vert.glsl") for n in SHIPPED)
    assert any(n.endswith(".frag.glsl") for n in SHIPPED)


def test_include_is_expanded_with_line_directives(tmp_path):
    write(tmp_path, "inc.glsl", "float inc_a;\nfloat inc_b;\n")
    write(
        tmp_path,
        "main.glsl",
        '#version 330 core\n// a\n#include "inc.glsl"\nfloat after;\n',
    )
    assert load_source("main.glsl", tmp_path) == (
        "#version 330 core\n"
        "#line 2 0\n"
        "// a\n"
        "#line 1 1\n"
        "float inc_a;\n"
        "float inc_b;\n"
        "#line 4 0\n"
        "float after;\n"
    )


def test_line_after_included_block_announces_line_after_the_include(tmp_path):
    write(tmp_path, "lib/one.glsl", "float one;\n")
    write(
        tmp_path,
        "main.glsl",
        "#version 330 core\n"
        "\n"
        "\n"
        "\n"
        '#include "lib/one.glsl"\n'  # line 5
        "float six;\n",
    )
    out = load_source("main.glsl", tmp_path).splitlines()
    block_end = out.index("float one;") + 1
    assert out[block_end] == "#line 6 0"
    assert out[block_end + 1] == "float six;"


def test_nested_includes_resume_each_files_numbering(tmp_path):
    write(tmp_path, "b.glsl", "float b1;\n")
    write(tmp_path, "a.glsl", 'float a1;\n#include "b.glsl"\nfloat a3;\n')
    write(
        tmp_path,
        "main.glsl",
        '#version 330 core\n#include "a.glsl"\nfloat m3;\n#include "b.glsl"\nfloat m5;\n',
    )
    source = load_source("main.glsl", tmp_path)
    assert source.splitlines() == [
        "#version 330 core",
        "#line 2 0",
        "#line 1 1",
        "float a1;",
        "#line 1 2",
        "float b1;",
        "#line 3 1",
        "float a3;",
        "#line 3 0",
        "float m3;",
        "#line 1 2",  # the same file keeps its source string number
        "float b1;",
        "#line 5 0",
        "float m5;",
    ]
    check_line_directives(tmp_path, "main.glsl", source)


def test_include_line_may_have_surrounding_whitespace(tmp_path):
    write(tmp_path, "inc.glsl", "float inc;\n")
    write(tmp_path, "main.glsl", '#version 330 core\n   #include   "inc.glsl"  \n')
    assert "float inc;" in load_source("main.glsl", tmp_path).splitlines()


@pytest.mark.parametrize("text", ["void main() {}\n", "// comment\n#version 330 core\n", ""])
def test_missing_version_raises_naming_file_line_1(tmp_path, text):
    path = write(tmp_path, "stage.glsl", text)
    with pytest.raises(ShaderError, match=re.escape(f"{path}:1:") + ".*#version"):
        load_source("stage.glsl", tmp_path)


def test_missing_stage_file_raises_shader_error(tmp_path):
    with pytest.raises(ShaderError, match="missing.glsl"):
        load_source("missing.glsl", tmp_path)


def test_missing_include_raises_naming_including_file_and_line(tmp_path):
    path = write(tmp_path, "main.glsl", '#version 330 core\n\n#include "nope.glsl"\n')
    with pytest.raises(ShaderError, match=re.escape(f"{path}:3:") + ".*nope.glsl"):
        load_source("main.glsl", tmp_path)


def test_missing_include_in_included_file_names_that_file_and_line(tmp_path):
    write(tmp_path, "main.glsl", '#version 330 core\n#include "lib/a.glsl"\n')
    inner = write(tmp_path, "lib/a.glsl", 'float a;\n#include "lib/gone.glsl"\n')
    with pytest.raises(ShaderError, match=re.escape(f"{inner}:2:") + ".*gone.glsl"):
        load_source("main.glsl", tmp_path)


def test_include_cycle_raises_nested_too_deep(tmp_path):
    write(tmp_path, "main.glsl", '#version 330 core\n#include "a.glsl"\n')
    write(tmp_path, "a.glsl", '#include "b.glsl"\n')
    write(tmp_path, "b.glsl", '#include "a.glsl"\n')
    with pytest.raises(ShaderError, match="nested too deep"):
        load_source("main.glsl", tmp_path)


def test_self_include_raises_nested_too_deep(tmp_path):
    write(tmp_path, "main.glsl", '#version 330 core\n#include "self.glsl"\n')
    write(tmp_path, "self.glsl", '#include "self.glsl"\n')
    with pytest.raises(ShaderError, match="nested too deep"):
        load_source("main.glsl", tmp_path)


def write_chain(root: Path, depth: int) -> None:
    """Write main.glsl including inc1, which includes inc2, ... down to inc{depth}."""
    write(root, "main.glsl", '#version 330 core\n#include "inc1.glsl"\n')
    for i in range(1, depth):
        write(root, f"inc{i}.glsl", f'float f{i};\n#include "inc{i + 1}.glsl"\n')
    write(root, f"inc{depth}.glsl", "float deepest;\n")


def test_includes_nested_max_depth_load(tmp_path):
    write_chain(tmp_path, MAX_INCLUDE_DEPTH)
    source = load_source("main.glsl", tmp_path)
    assert "float deepest;" in source.splitlines()
    check_line_directives(tmp_path, "main.glsl", source)


def test_includes_nested_deeper_than_max_depth_raise(tmp_path):
    write_chain(tmp_path, MAX_INCLUDE_DEPTH + 1)
    with pytest.raises(ShaderError, match="nested too deep"):
        load_source("main.glsl", tmp_path)


def test_numbered_prefixes_each_line_with_its_number():
    assert numbered("#version 330 core\nvoid main() {}\n") == (
        "   1  #version 330 core\n   2  void main() {}"
    )


def test_numbered_lines_match_loaded_source_lines(tmp_path):
    write(tmp_path, "inc.glsl", "float a;\n")
    write(tmp_path, "main.glsl", '#version 330 core\n#include "inc.glsl"\nvoid main() {}\n')
    source = load_source("main.glsl", tmp_path)
    rows = numbered(source).splitlines()
    assert len(rows) == len(source.splitlines())
    for i, (row, line) in enumerate(zip(rows, source.splitlines(), strict=True), 1):
        assert row == f"{i:4d}  {line}"


def test_shader_error_is_an_ordinary_exception():
    assert issubclass(ShaderError, Exception)
    assert not issubclass(ShaderError, (KeyboardInterrupt, SystemExit))
