"""Batch samplers over replay buffers, and the numpy -> torch batch conversion."""

from __future__ import annotations

import numpy as np
import torch

from userl.core.specs import ObservationSpec
from userl.core.types import Batch
from userl.data.buffers import STATE_KEY, ReplayBuffer


def _concat(parts: list[dict]) -> dict:
    if len(parts) == 1:
        return parts[0]
    out: dict = {}
    for key, value in parts[0].items():
        if isinstance(value, dict):
            out[key] = {k: np.concatenate([p[key][k] for p in parts]) for k in value}
        else:
            out[key] = np.concatenate([p[key] for p in parts])
    return out


class SymmetricSampler:
    """RLPD's symmetric sampling: each batch takes round(demo_fraction * B) rows from the demo
    buffer and the rest from the online buffer (demo rows first).

    When the demo buffer is missing or empty every row is online; when the online buffer is
    empty every row is a demo. `only_demos`: the "online" buffer holds demos too (a sampler
    of the demo buffer alone), so every row counts as a demo in `from_demos`.
    """

    def __init__(
        self,
        online: ReplayBuffer,
        demo: ReplayBuffer | None,
        demo_fraction: float,
        only_demos: bool = False,
    ) -> None:
        if not 0.0 <= demo_fraction <= 1.0:
            raise ValueError(f"demo_fraction must be within [0, 1], got {demo_fraction}")
        self.online = online
        self.demo = demo
        self.demo_fraction = demo_fraction
        self.only_demos = only_demos

    def demo_rows(self, batch_size: int) -> int:
        """How many of `batch_size` rows come from the demo buffer right now."""
        if self.demo is None or len(self.demo) == 0:
            return 0
        if len(self.online) == 0:
            return batch_size
        return int(round(self.demo_fraction * batch_size))

    def __len__(self) -> int:
        """Transitions it can draw from."""
        return len(self.online) + (len(self.demo) if self.demo is not None else 0)

    def sample_into(
        self, out: dict, batch_size: int, rng: np.random.Generator, start: int = 0
    ) -> None:
        """`sample` gathered straight into rows [start, start + batch_size) of the
        preallocated arrays `out` (same rows, same random draws)."""
        n_demo = self.demo_rows(batch_size)
        if "from_demos" in out:
            labelled = batch_size if self.only_demos else n_demo
            out["from_demos"][start : start + labelled] = 1.0
            out["from_demos"][start + labelled : start + batch_size] = 0.0
        if n_demo > 0:
            assert self.demo is not None
            self.demo.gather_into(self.demo.sample_indices(n_demo, rng), out, start)
        if batch_size - n_demo > 0:
            self.online.gather_into(
                self.online.sample_indices(batch_size - n_demo, rng), out, start + n_demo
            )

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict:
        n_demo = self.demo_rows(batch_size)
        parts = []
        if n_demo > 0:
            assert self.demo is not None
            parts.append(
                {**self.demo.sample(n_demo, rng), "from_demos": np.ones(n_demo, np.float32)}
            )
        if batch_size - n_demo > 0:
            parts.append(
                {
                    **self.online.sample(batch_size - n_demo, rng),
                    "from_demos": np.full(batch_size - n_demo, float(self.only_demos), np.float32),
                }
            )
        return _concat(parts)


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """`total` split into integer shares proportional to `weights` (largest remainders;
    ties to the earlier entry): deterministic, and each share within 1 of its exact value."""
    exact = total * weights / weights.sum()
    shares = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - shares), kind="stable")
    shares[order[: total - int(shares.sum())]] += 1
    return shares


class CellSampler:
    """Fair sampling across robot cells: each batch gives every cell that has data its
    share of the rows by the cells' weights (`apportion`), drawn by that cell's own
    `SymmetricSampler` (its demos and its online data). One cell: exactly its sampler."""

    def __init__(self, samplers: list[SymmetricSampler], weights: list[float]) -> None:
        if len(samplers) != len(weights) or not samplers:
            raise ValueError(f"{len(samplers)} samplers with {len(weights)} weights")
        if any(w <= 0 for w in weights):
            raise ValueError(f"cell weights must be > 0, got {weights}")
        self.samplers = samplers
        self.weights = np.asarray(weights, np.float64)

    def __len__(self) -> int:
        return sum(len(sampler) for sampler in self.samplers)

    def rows(self, batch_size: int) -> np.ndarray:
        """How many of `batch_size` rows each cell gives now (0 for a cell with no data)."""
        ready = np.asarray([len(sampler) > 0 for sampler in self.samplers])
        if not ready.any():
            raise ValueError("cannot sample: no cell has any data yet")
        return apportion(batch_size, np.where(ready, self.weights, 0.0))

    def sample_into(
        self, out: dict, batch_size: int, rng: np.random.Generator, start: int = 0
    ) -> None:
        for sampler, rows in zip(self.samplers, self.rows(batch_size), strict=True):
            if rows:
                sampler.sample_into(out, int(rows), rng, start)
                start += int(rows)

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict:
        return _concat(
            [
                sampler.sample(int(rows), rng)
                for sampler, rows in zip(self.samplers, self.rows(batch_size), strict=True)
                if rows
            ]
        )


OPTIONAL_KEYS = (
    "action_chunks",
    "action_chunk_mask",
    "chunk_steps",
    "chunk_rewards",
    "from_demos",
)


def to_torch(batch: dict, device: str | torch.device = "cpu") -> Batch:
    """A numpy batch dict -> `Batch`. States, actions and rewards become float32; views stay
    uint8; `terminated`, `intervened` and `from_demos` become float32 0/1 (masks)."""

    def tensor(array: np.ndarray, dtype: torch.dtype | None = None) -> torch.Tensor:
        return torch.as_tensor(array, device=device, dtype=dtype)

    def obs(group: dict) -> dict:
        return {
            k: tensor(v, torch.float32 if v.dtype != np.uint8 else None) for k, v in group.items()
        }

    return Batch(
        observations=obs(batch["observations"]),
        actions=tensor(batch["actions"], torch.float32),
        rewards=tensor(batch["rewards"], torch.float32),
        next_observations=obs(batch["next_observations"]),
        terminated=tensor(batch["terminated"], torch.float32),
        intervened=tensor(batch["intervened"], torch.float32),
        **{key: tensor(batch[key], torch.float32) for key in OPTIONAL_KEYS if key in batch},
    )


class BatchBuffers:
    """Preallocated batch tensors that each sample is gathered into in place: no per-update
    allocation, and on a CPU the batch *is* these tensors (no copy at all).

    On a GPU the host tensors are pinned and double-buffered: a batch is gathered on the
    host, copied to its device slot asynchronously, and the host slot is refilled only once
    that copy has finished; the update on the device never waits for the host. A returned
    `Batch` stays valid until the next-but-one `fill` (the next `fill` on a CPU).
    """

    def __init__(
        self,
        obs_spec: ObservationSpec,
        action_dim: int,
        batch_size: int,
        device: str | torch.device = "cpu",
        label_chunk_steps: int = 1,
    ) -> None:
        self.device = torch.device(device)
        self.label_chunk_steps = label_chunk_steps
        self.batch_size = batch_size
        on_gpu = self.device.type == "cuda"
        slots = 2 if on_gpu else 1
        self._host = [self._allocate(obs_spec, action_dim, "cpu", on_gpu) for _ in range(slots)]
        self._device = (
            [self._allocate(obs_spec, action_dim, self.device, False) for _ in range(slots)]
            if on_gpu
            else self._host
        )
        self._arrays = [self._numpy(host) for host in self._host]
        # CUDA events: the slot's host-to-device copy is done
        self._copied: list[torch.cuda.Event | None] = [None] * slots
        self._slot = 0

    def _allocate(
        self, spec: ObservationSpec, action_dim: int, device: str | torch.device, pin: bool
    ) -> dict:
        size = self.batch_size

        def empty(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.empty(shape, dtype=dtype, device=device, pin_memory=pin)

        def observation() -> dict:
            obs = {STATE_KEY: empty(size, spec.state_dim)}
            for view in spec.images:
                obs[view.name] = empty(size, view.height_px, view.width_px, 3, dtype=torch.uint8)
            return obs

        chunks = self.label_chunk_steps
        return {
            "observations": observation(),
            "next_observations": observation(),
            "actions": empty(size, action_dim),
            "rewards": empty(size),
            "terminated": empty(size),
            "intervened": empty(size),
            "from_demos": empty(size),
            "row_ids": empty(size, dtype=torch.int64),  # ReplayBuffer.row_ids of each row
            **(
                {
                    "action_chunks": empty(size, chunks, action_dim),
                    "action_chunk_mask": empty(size, chunks),
                    "chunk_steps": empty(size),
                    "chunk_rewards": empty(size, chunks),
                }
                if chunks > 1
                else {}
            ),
        }

    @staticmethod
    def _numpy(tensors: dict) -> dict:
        return {
            key: BatchBuffers._numpy(value) if isinstance(value, dict) else value.numpy()
            for key, value in tensors.items()
        }

    def fill(self, sampler: SymmetricSampler | CellSampler, rng: np.random.Generator) -> Batch:
        """Draw a batch with `sampler` into the next slot; the `Batch` on the device."""
        slot = self._slot
        self._slot = (slot + 1) % len(self._host)
        copied = self._copied[slot]
        if copied is not None:
            copied.synchronize()  # the copy from this host slot has finished
        sampler.sample_into(self._arrays[slot], self.batch_size, rng)
        tensors = self._device[slot]
        if self._device is not self._host:
            self._copy(self._host[slot], tensors)
            event = torch.cuda.Event()
            event.record()
            self._copied[slot] = event
        return Batch(**tensors)

    @staticmethod
    def _copy(source: dict, target: dict) -> None:
        for key, value in source.items():
            if isinstance(value, dict):
                BatchBuffers._copy(value, target[key])
            else:
                target[key].copy_(value, non_blocking=True)
