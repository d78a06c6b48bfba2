#version 330 core

// Per-panel colour calibration, so panels of different batches match:
// gain per channel, then a gamma exponent, then overall brightness.
uniform sampler2D u_scene;
uniform vec3 u_gain;
uniform float u_gamma;
uniform float u_brightness;
uniform float u_alpha;        // below 1 while the scene fades in over the previous one

in vec2 v_uv;
out vec4 f_color;

void main() {
    vec4 scene = texture(u_scene, v_uv);
    vec3 c = pow(clamp(scene.rgb * u_gain, 0.0, 1.0), vec3(u_gamma)) * u_brightness;
    f_color = vec4(c, u_alpha);
}
