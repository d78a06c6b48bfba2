#version 330 core
#include "lib/viewport.glsl"

in vec2 in_corner;   // unit quad corner, 0..1
in vec4 in_quad;     // per glyph: x, y, w, h in canvas pixels
in vec4 in_uv;       // per glyph: u0, v0, u1, v1 in the atlas, v down
in vec4 in_color;    // per glyph: straight RGBA

out vec2 v_uv;
out vec4 v_color;

void main() {
    v_uv = mix(in_uv.xy, in_uv.zw, in_corner);
    v_color = in_color;
    gl_Position = canvas_to_clip(in_quad.xy + in_corner * in_quad.zw);
}
