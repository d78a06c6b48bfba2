#version 330 core
#include "lib/viewport.glsl"
#include "lib/groups.glsl"

// One instance per shape. Kinds: 0 rounded box, 1 segment (capsule),
// 2 ring sector, 3 triangle pointing up/down.
in vec2 in_corner;    // unit quad corner, 0..1
in vec4 in_geom;      // box: x, y, w, h | segment: x0, y0, x1, y1 | ring: cx, cy, r_out, r_in
in vec4 in_params;    // kind, radius or width, border width, group
in vec4 in_color;     // fill, straight RGBA
in vec4 in_border;    // border colour
in vec2 in_angles;    // ring sector: start, end in radians, clockwise from 12 o'clock

out vec2 v_local;     // position relative to the shape's centre, canvas px
flat out vec4 v_geom;
flat out vec4 v_params;
flat out vec4 v_color;
flat out vec4 v_border;
flat out vec2 v_angles;
flat out vec4 v_clip;
out vec2 v_canvas;

void main() {
    float kind = in_params.x;
    vec2 lo;
    vec2 hi;
    vec4 geom = in_geom;
    if (kind == 1.0) {
        float r = in_params.y * 0.5 + 1.5;
        lo = min(geom.xy, geom.zw) - r;
        hi = max(geom.xy, geom.zw) + r;
    } else if (kind == 2.0) {
        lo = geom.xy - geom.z - 1.5;
        hi = geom.xy + geom.z + 1.5;
    } else {
        lo = geom.xy - 1.5;
        hi = geom.xy + geom.zw + 1.5;
    }
    vec4 motion = group_motion(in_params.w);
    vec2 centre = (lo + hi) * 0.5;
    vec2 p = mix(lo, hi, in_corner);
    v_local = p - centre;
    // Geometry relative to the centre keeps the SDF maths small and exact.
    if (kind == 1.0) {
        geom = vec4(geom.xy - centre, geom.zw - centre);
    } else if (kind == 2.0) {
        geom.xy -= centre;
    } else {
        geom = vec4(geom.zw * 0.5, 0.0, 0.0);
    }
    v_geom = geom;
    v_params = in_params;
    v_color = vec4(in_color.rgb, in_color.a * motion.z * u_alpha);
    v_border = vec4(in_border.rgb, in_border.a * motion.z * u_alpha);
    v_angles = in_angles;
    v_clip = group_clip(in_params.w);
    v_canvas = p + motion.xy;
    gl_Position = canvas_to_clip(v_canvas);
}
