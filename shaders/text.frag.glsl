#version 330 core
#include "lib/groups.glsl"

uniform sampler2D u_atlas;         // single channel coverage of outline glyphs
uniform sampler2D u_colour_atlas;  // premultiplied RGBA of colour emoji

in vec2 v_uv;
in vec4 v_color;
in vec2 v_canvas;
flat in vec4 v_clip;
flat in float v_page;
out vec4 f_color;

void main() {
    float clip = clip_coverage(v_canvas, v_clip);
    if (v_page > 0.5) {
        // A colour glyph keeps its own colours; the text colour only lends its opacity.
        vec4 texel = texture(u_colour_atlas, v_uv);
        f_color = vec4(texel.rgb / max(texel.a, 1e-4), texel.a * v_color.a * clip);
    } else {
        f_color = vec4(v_color.rgb, v_color.a * texture(u_atlas, v_uv).r * clip);
    }
}
