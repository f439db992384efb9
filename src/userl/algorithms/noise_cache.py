"""The noise DSRL recovered behind each stored transition, kept by its row id.

The base is frozen, so the noise u that its flow maps to a stored (observation, executed
chunk), and the round trip's error, never change: the learner inverts each stored
transition once and reads it back on every later draw. Rows are keyed by the replay's row
id (`ReplayBuffer.row_ids`: unique across buffers and new each time a slot is written), so
a slot the ring buffer overwrites is a new key and is inverted afresh; the old key is never
drawn again and leaves the cache when its slot in the cache is reused (first in, first out).
The cache lives on the learner's device and is not checkpointed: a resumed run refills it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor


class NoiseCache:
    """`rows` recovered noises (each `width` values) and their round-trip errors, by row id;
    the oldest entry leaves first when full."""

    def __init__(self, rows: int, width: int, device: str | torch.device) -> None:
        if rows < 1:
            raise ValueError(f"a noise cache needs at least one row, got {rows}")
        self.latents = torch.zeros(rows, width, device=device)
        self.errors = torch.zeros(rows, device=device)
        self.slot_of: dict[int, int] = {}  # row id -> its slot in the cache
        self.id_in: list[int | None] = [None] * rows  # slot -> the row id it holds
        self.next_slot = 0

    def __len__(self) -> int:
        return len(self.slot_of)

    def recover(
        self, ids: list[int], invert: Callable[[list[int]], tuple[Tensor, Tensor]]
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Each row's noise (B, width) and error (B,): cached rows read back, the others (each
        row id once) computed by `invert(positions in ids)` and cached. Also the errors of
        the rows inverted now (one per new row id), which the caller counts."""
        new: dict[int, int] = {}  # row id not cached -> its row in invert's answer
        for row in ids:
            if row not in self.slot_of and row not in new:
                new[row] = len(new)
        old = [position for position, row in enumerate(ids) if row not in new]
        latents = self.latents.new_empty(len(ids), self.latents.shape[1])
        errors = self.errors.new_empty(len(ids))
        if old:
            read = torch.as_tensor([self.slot_of[ids[p]] for p in old], device=latents.device)
            latents[old], errors[old] = self.latents[read], self.errors[read]
        fresh_errors = errors.new_empty(0)
        if new:
            first = {row: position for position, row in reversed(list(enumerate(ids)))}
            fresh_latents, fresh_errors = invert([first[row] for row in new])
            rest = [position for position, row in enumerate(ids) if row in new]
            pick = torch.as_tensor([new[ids[p]] for p in rest], device=latents.device)
            latents[rest], errors[rest] = fresh_latents[pick], fresh_errors[pick]
            self.put(list(new), fresh_latents, fresh_errors)
        return latents, errors, fresh_errors

    def put(self, ids: list[int], latents: Tensor, errors: Tensor) -> None:
        """Cache each row id's noise (latents[i]) and error (errors[i]), evicting the oldest."""
        if len(ids) > len(self.id_in):
            raise ValueError(f"{len(ids)} rows do not fit a noise cache of {len(self.id_in)}")
        slots = []
        for row in ids:
            slot = self.next_slot
            self.next_slot = (slot + 1) % len(self.id_in)
            evicted = self.id_in[slot]
            if evicted is not None:
                del self.slot_of[evicted]
            self.id_in[slot] = row
            self.slot_of[row] = slot
            slots.append(slot)
        index = torch.as_tensor(slots, device=self.latents.device)
        self.latents[index] = latents.to(self.latents.dtype)
        self.errors[index] = errors.to(self.errors.dtype)
