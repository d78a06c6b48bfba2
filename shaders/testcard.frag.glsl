#version 330 core
#include "lib/aa.glsl"

// Calibration pattern drawn in canvas coordinates: if bezels are set right,
// every grid line, diagonal and circle continues straight across the seams.
// It does not move, so the renderer draws it once and copies it each frame.
uniform vec2 u_canvas;      // canvas size in pixels
uniform vec4 u_panel;       // this panel's canvas rectangle: x, y, w, h
uniform float u_grid;       // grid spacing in canvas pixels

in vec2 v_canvas;
out vec4 f_color;

float grid_distance(vec2 p, float spacing) {
    vec2 d = abs(mod(p + 0.5 * spacing, spacing) - 0.5 * spacing);
    return min(d.x, d.y);
}

float line_distance(vec2 p, vec2 a, vec2 b) {
    vec2 ab = b - a;
    return abs(ab.x * (p.y - a.y) - ab.y * (p.x - a.x)) / length(ab);
}

void main() {
    vec2 p = v_canvas;
    float px = max(fwidth(p.x), fwidth(p.y));
    vec3 color = vec3(0.02, 0.03, 0.05);

    color = mix(color, vec3(0.22), stroke(grid_distance(p, u_grid), 0.75, px));
    color = mix(color, vec3(0.45), stroke(grid_distance(p, u_grid * 5.0), 1.5, px));

    float diagonals = min(line_distance(p, vec2(0.0), u_canvas),
                          line_distance(p, vec2(u_canvas.x, 0.0), vec2(0.0, u_canvas.y)));
    color = mix(color, vec3(1.0), stroke(diagonals, 2.0, px));

    vec2 centre = 0.5 * u_canvas;
    float big = abs(length(p - centre) - 0.45 * min(u_canvas.x, u_canvas.y));
    color = mix(color, vec3(1.0, 0.85, 0.2), stroke(big, 3.0, px));

    vec2 panel_centre = u_panel.xy + 0.5 * u_panel.zw;
    float own = abs(length(p - panel_centre) - 0.42 * min(u_panel.z, u_panel.w));
    color = mix(color, vec3(0.2, 0.8, 1.0), stroke(own, 2.0, px));

    vec2 inside = min(p - u_panel.xy, u_panel.xy + u_panel.zw - p);
    float edge = min(inside.x, inside.y);
    color = mix(color, vec3(0.9, 0.1, 0.3), stroke(edge, 4.0, px));

    f_color = vec4(color, 1.0);
}
