#version 330 core

// A flat colour over the whole panel: the incoming scenario's background
// during a cross-fade, blended by its alpha.
uniform vec4 u_color;

in vec2 v_uv;
out vec4 f_color;

void main() {
    f_color = u_color;
}
