"""Aggregator state as JSON: sparse arrays, and saved brands mapped onto the current list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

STATE_VERSION = 1


def pack(array: np.ndarray) -> dict[str, Any]:
    """A mostly-zero array as JSON: its shape, and the flat index and value of non-zeros."""
    flat = array.ravel()
    index = np.flatnonzero(flat)
    return {"shape": list(array.shape), "index": index.tolist(), "value": flat[index].tolist()}


def unpack(packed: dict[str, Any], dtype: Any) -> np.ndarray:
    """The array `pack` saved."""
    array = np.zeros(int(np.prod(packed["shape"])), dtype=dtype)
    array[np.asarray(packed["index"], dtype=np.int64)] = packed["value"]
    return array.reshape(packed["shape"])


class BrandMap:
    """Where each saved brand's figures go in the current brand list, so a new list keeps the rest.

    Args:
        old: the brands the state was saved with.
        index: the current brands' positions by name.
    """

    def __init__(self, old: Sequence[str], index: dict[str, int]):
        self.new_of_old = np.array([index.get(b, -1) for b in old], dtype=np.int64)
        self._kept = np.flatnonzero(self.new_of_old >= 0)
        self._brands = len(index)

    def remap(self, array: np.ndarray, axis: int) -> np.ndarray:
        """The saved array with its brand `axis` in the current order; dropped brands gone."""
        shape = list(array.shape)
        shape[axis] = self._brands
        out = np.zeros(shape, dtype=array.dtype)
        index = [slice(None)] * len(shape)
        source = list(index)
        index[axis], source[axis] = self.new_of_old[self._kept], self._kept
        out[tuple(index)] = array[tuple(source)]
        return out
