#version 330 core

uniform sampler2D u_atlas;   // single channel coverage

in vec2 v_uv;
in vec4 v_color;
out vec4 f_color;

void main() {
    float coverage = texture(u_atlas, v_uv).r;
    f_color = vec4(v_color.rgb, v_color.a * coverage);
}
