#version 330 core
#include "lib/viewport.glsl"

in vec2 in_corner;   // unit quad corner, 0..1
in vec4 in_rect;     // per instance: x, y, w, h in canvas pixels
in vec4 in_color;    // per instance: straight RGBA

out vec4 v_color;

void main() {
    v_color = in_color;
    gl_Position = canvas_to_clip(in_rect.xy + in_corner * in_rect.zw);
}
