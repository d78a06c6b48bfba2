#version 330 core

in vec2 in_corner;   // unit quad corner, 0..1
out vec2 v_uv;

void main() {
    v_uv = in_corner;
    gl_Position = vec4(in_corner * 2.0 - 1.0, 0.0, 1.0);
}
