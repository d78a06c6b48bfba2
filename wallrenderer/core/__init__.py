"""What both nodes share: geometry, the layout model, the wire protocol, clocks, addresses, errors.

Nothing here imports the controller or the renderer (docs/architecture.md,
"Packages"); the pure parts import neither GL nor ZeroMQ.
"""
