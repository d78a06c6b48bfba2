#version 330 core
#include "lib/viewport.glsl"

// One picture: a quad in canvas pixels showing the whole texture.
uniform vec4 u_rect;   // x, y, w, h

in vec2 in_corner;     // unit quad corner, 0..1; y down like the image rows
out vec2 v_uv;

void main() {
    v_uv = in_corner;
    gl_Position = canvas_to_clip(u_rect.xy + in_corner * u_rect.zw);
}
