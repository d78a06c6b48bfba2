"""The renderer node: one per display, drawing its slice of the wall's canvas on the GPU."""
