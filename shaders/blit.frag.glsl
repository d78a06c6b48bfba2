#version 330 core

// A panel's cached static image (background, testcard pattern, cards, static
// layers) drawn at some opacity: the incoming scenario during a cross-fade.
uniform sampler2D u_image;
uniform float u_alpha;

in vec2 v_uv;
out vec4 f_color;

void main() {
    vec4 image = texture(u_image, v_uv);
    f_color = vec4(image.rgb, image.a * u_alpha);
}
