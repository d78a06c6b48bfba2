#version 330 core

// A cached full-panel image (the testcard pattern) drawn at some opacity.
uniform sampler2D u_image;
uniform float u_alpha;

in vec2 v_uv;
out vec4 f_color;

void main() {
    vec4 image = texture(u_image, v_uv);
    f_color = vec4(image.rgb, image.a * u_alpha);
}
