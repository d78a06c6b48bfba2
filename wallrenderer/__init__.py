"""wallrenderer: one bezel-compensated canvas drawn across a wall of panels."""
