#version 330 core
#include "lib/groups.glsl"

// Signed-distance shapes: edges are anti-aliased over one native pixel at
// any scale, so the same instance list is crisp on 1080p and 4K panels.
in vec2 v_local;
flat in vec4 v_geom;
flat in vec4 v_params;
flat in vec4 v_color;
flat in vec4 v_border;
flat in vec2 v_angles;
flat in vec4 v_clip;
in vec2 v_canvas;
out vec4 f_color;

const float TAU = 6.28318530718;

float box_distance(vec2 p, vec2 half_size, float radius) {
    radius = min(radius, min(half_size.x, half_size.y));
    vec2 q = abs(p) - half_size + radius;
    return length(max(q, 0.0)) + min(max(q.x, q.y), 0.0) - radius;
}

float segment_distance(vec2 p, vec2 a, vec2 b, float half_width) {
    vec2 ab = b - a;
    float h = clamp(dot(p - a, ab) / max(dot(ab, ab), 1e-6), 0.0, 1.0);
    return length(p - a - ab * h) - half_width;
}

float ring_distance(vec2 p, vec2 centre, float r_out, float r_in, vec2 angles) {
    vec2 d = p - centre;
    float r = length(d);
    float radial = max(r - r_out, r_in - r);
    if (angles.y - angles.x >= TAU - 1e-4) {
        return radial;
    }
    // Angle clockwise from 12 o'clock (canvas y points down).
    float a = mod(atan(d.x, -d.y), TAU);
    float mid = (angles.x + angles.y) * 0.5;
    float half_span = (angles.y - angles.x) * 0.5;
    float off = abs(mod(a - mid + TAU * 1.5, TAU) - TAU * 0.5) - half_span;
    // Distance to the sector's straight edges, approximated along the arc.
    return max(radial, off * max(r, 1.0));
}

// Isosceles triangle filling the box, apex up (direction 1) or down (-1);
// Inigo Quilez's exact distance, apex at the origin and base at y = q.y.
float triangle_distance(vec2 p, vec2 half_size, float direction) {
    p.y *= direction;
    p = vec2(abs(p.x), p.y + half_size.y);
    vec2 q = vec2(half_size.x, 2.0 * half_size.y);
    vec2 a = p - q * clamp(dot(p, q) / dot(q, q), 0.0, 1.0);
    vec2 b = p - q * vec2(clamp(p.x / q.x, 0.0, 1.0), 1.0);
    float s = -sign(q.y);
    vec2 d = min(vec2(dot(a, a), s * (p.x * q.y - p.y * q.x)),
                 vec2(dot(b, b), s * (p.y - q.y)));
    return -sqrt(d.x) * sign(d.y);
}

void main() {
    float kind = v_params.x;
    float px = max(fwidth(v_local.x), fwidth(v_local.y));
    float d;
    if (kind == 1.0) {
        d = segment_distance(v_local, v_geom.xy, v_geom.zw, v_params.y * 0.5);
    } else if (kind == 2.0) {
        d = ring_distance(v_local, v_geom.xy, v_geom.z, v_geom.w, v_angles);
    } else if (kind == 3.0) {
        d = triangle_distance(v_local, v_geom.xy, v_params.y);
    } else {
        d = box_distance(v_local, v_geom.xy, v_params.y);
    }
    // Square boxes keep hard edges: a calibration fill covers exactly the pixels
    // whose centres it contains, as the rasteriser would.
    float edge = (kind == 0.0 && v_params.y == 0.0) ? step(d, 0.0) : clamp(0.5 - d / px, 0.0, 1.0);
    float coverage = edge * clip_coverage(v_canvas, v_clip);
    vec4 color = v_color;
    float border = v_params.z;
    if (border > 0.0) {
        float inner = clamp(0.5 - (d + border) / px, 0.0, 1.0);
        color = mix(v_border, v_color, inner);
    }
    if (coverage * color.a <= 0.0) {
        discard;
    }
    f_color = vec4(color.rgb, color.a * coverage);
}
