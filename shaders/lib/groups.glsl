// Animation groups: every instance names a group whose offset, opacity and
// clip rectangle live in a small float texture, rewritten each frame. Data
// changes rebuild a widget's instances (frames come at most 10 a second); motion (a ticker's
// scroll, a card sliding in, bars re-ordering) only rewrites this texture.
uniform sampler2D u_groups;   // row 0: dx, dy, alpha, -; row 1: clip x0, y0, x1, y1
uniform float u_alpha;        // whole-scene opacity (cross-fade between scenarios)

vec4 group_motion(float group) {
    return texelFetch(u_groups, ivec2(int(group), 0), 0);
}

vec4 group_clip(float group) {
    return texelFetch(u_groups, ivec2(int(group), 1), 0);
}

// 1 inside the clip rectangle, 0 outside; a clip with x1 < x0 means none.
float clip_coverage(vec2 canvas_px, vec4 clip) {
    if (clip.z < clip.x) {
        return 1.0;
    }
    vec2 inside = step(clip.xy, canvas_px) * step(canvas_px, clip.zw);
    return inside.x * inside.y;
}
