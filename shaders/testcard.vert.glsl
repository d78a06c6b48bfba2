#version 330 core
#include "lib/viewport.glsl"

uniform vec2 u_canvas;   // canvas size in pixels

in vec2 in_corner;       // unit quad corner, 0..1
out vec2 v_canvas;       // canvas pixel coordinates of this fragment

void main() {
    v_canvas = in_corner * u_canvas;
    gl_Position = canvas_to_clip(v_canvas);
}
