"""Streaming aggregation: post batches in, the figures a wall shows out, one module per concern.

`aggregator.Aggregator` composes them; docs/data-frames.md documents what its frames hold.
"""
