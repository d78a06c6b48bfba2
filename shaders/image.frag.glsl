#version 330 core

// The texture holds premultiplied colour, so filtering never bleeds the colour
// of transparent pixels into a logo's edge; the output is straight alpha, as
// the scene's blending expects.
uniform sampler2D u_image;
uniform float u_alpha;  // the widget's opacity times the cross-fade

in vec2 v_uv;
out vec4 f_color;

void main() {
    vec4 texel = texture(u_image, v_uv);
    f_color = texel.a > 0.0 ? vec4(texel.rgb / texel.a, texel.a * u_alpha) : vec4(0.0);
}
