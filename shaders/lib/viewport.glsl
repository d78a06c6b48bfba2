// Canvas pixels -> this panel's clip space. The matrix carries the panel's
// slice of the bezel-compensated canvas and its mounting rotation, so every
// visual is written in canvas coordinates and never knows which panel it is on.
uniform mat3 u_canvas_to_ndc;

vec4 canvas_to_clip(vec2 canvas_px) {
    vec3 ndc = u_canvas_to_ndc * vec3(canvas_px, 1.0);
    return vec4(ndc.xy, 0.0, 1.0);
}
