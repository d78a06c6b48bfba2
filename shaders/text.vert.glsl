#version 330 core
#include "lib/viewport.glsl"
#include "lib/groups.glsl"

in vec2 in_corner;   // unit quad corner, 0..1
in vec4 in_quad;     // per glyph: x, y, w, h in canvas pixels
in vec4 in_uv;       // per glyph: u0, v0, u1, v1 in its atlas page, v down
in vec4 in_color;    // per glyph: straight RGBA
in float in_page;    // per glyph: 0 coverage page, 1 colour page
in float in_group;   // animation group (lib/groups.glsl)

out vec2 v_uv;
out vec4 v_color;
out vec2 v_canvas;
flat out vec4 v_clip;
flat out float v_page;

void main() {
    vec4 motion = group_motion(in_group);
    v_uv = mix(in_uv.xy, in_uv.zw, in_corner);
    v_color = vec4(in_color.rgb, in_color.a * motion.z * u_alpha);
    v_clip = group_clip(in_group);
    v_page = in_page;
    v_canvas = in_quad.xy + in_corner * in_quad.zw + motion.xy;
    gl_Position = canvas_to_clip(v_canvas);
}
