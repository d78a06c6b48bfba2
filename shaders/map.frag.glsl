#version 330 core

// Flat country colours. No discard: it would cost llvmpipe its fast path.
uniform float u_alpha;

flat in vec4 v_color;
out vec4 f_color;

void main() {
    f_color = vec4(v_color.rgb, v_color.a * u_alpha);
}
