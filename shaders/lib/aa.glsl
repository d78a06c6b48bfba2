// Anti-aliased coverage of a stroke, measured in this panel's own pixels:
// fwidth() says how many canvas pixels one native pixel spans here.
float stroke(float distance_canvas, float half_width_px, float canvas_per_px) {
    return clamp(half_width_px - distance_canvas / canvas_per_px + 0.5, 0.0, 1.0);
}
