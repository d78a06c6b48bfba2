#version 330 core
#include "lib/groups.glsl"

uniform sampler2D u_atlas;   // single channel coverage

in vec2 v_uv;
in vec4 v_color;
in vec2 v_canvas;
flat in vec4 v_clip;
out vec4 f_color;

void main() {
    float coverage = texture(u_atlas, v_uv).r * clip_coverage(v_canvas, v_clip);
    f_color = vec4(v_color.rgb, v_color.a * coverage);
}
