#version 330 core
#include "lib/viewport.glsl"

// The world as one mesh: country triangles, or the borders between them as lines.
// Points are fractions of the map's box, so the mesh never changes; the
// colour of each country comes from a one-row texture rewritten on new data.
uniform vec4 u_map;           // the map's box: x, y, w, h in canvas pixels
uniform sampler2D u_colors;   // texel i: the colour of country number i
uniform bool u_outline;       // drawing borders: every point in u_border
uniform vec4 u_border;

in vec2 in_uv;                // point on the map, fractions of its box
in float in_country;          // its country's number

flat out vec4 v_color;

void main() {
    v_color = u_outline ? u_border : texelFetch(u_colors, ivec2(int(in_country), 0), 0);
    gl_Position = canvas_to_clip(u_map.xy + in_uv * u_map.zw);
}
