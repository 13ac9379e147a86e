"""Paged KV-cache (vLLM style): DRAM left after the weights is cut into blocks of `block_size`
tokens; a sequence holds ceil(tokens / block_size) blocks, taken as it grows, freed when it ends.
A sliding-window model's sequence holds at most its window's tokens (Mistral's rolling buffer)."""

import copy

from simulator.errors import CapacityError


def blocks_for(tokens: int, block_size: int) -> int:
    return -(-tokens // block_size)


class BlockManager:
    """Free-block accounting of one replica's KV-cache; `held` maps request id -> blocks."""

    def __init__(
        self,
        dram_bytes: int,
        weight_bytes: int,
        kv_bytes_per_token: int,
        block_size: int,
        memory_fraction: float,
        where: str,
        window: int | None = None,
    ):
        usable = int(dram_bytes * memory_fraction) - weight_bytes
        block_bytes = kv_bytes_per_token * block_size
        if usable < block_bytes:
            raise CapacityError(
                f"{where}: the weights take {weight_bytes / 2**30:.2f} GiB of "
                f"{memory_fraction:.0%} x {dram_bytes / 2**30:.2f} GiB DRAM, leaving "
                f"{max(usable, 0) / 2**30:.2f} GiB: not one KV block "
                f"({block_bytes / 2**20:.2f} MiB = {block_size} tokens) fits"
            )
        self.block_size = block_size
        self.window = window
        self.block_bytes = block_bytes
        self.total = usable // block_bytes
        self.free = self.total
        self.held: dict[int, int] = {}

    def share(self, parts: int) -> list["BlockManager"]:
        """`parts` empty managers with 1/parts of the blocks each (vLLM v0 splits a pipeline's
        blocks evenly between its virtual engines)."""
        if self.total < parts:
            raise CapacityError(f"KV-cache: {self.total} blocks cannot be shared by {parts}")
        shares = []
        for _ in range(parts):
            share = copy.copy(self)
            share.total = share.free = self.total // parts
            share.held = {}
            shares.append(share)
        return shares

    def blocks(self, tokens: int) -> int:
        """Blocks a sequence of `tokens` tokens holds: its window's tokens at most."""
        return blocks_for(min(tokens, self.window or tokens), self.block_size)

    def can_hold(self, rid: int, tokens: int) -> bool:
        """Would growing request `rid` to `tokens` tokens fit in the free blocks?"""
        return self.blocks(tokens) - self.held.get(rid, 0) <= self.free

    def grow(self, rid: int, tokens: int) -> None:
        """Take the blocks request `rid` needs to hold `tokens` tokens (caller checked can_hold)."""
        extra = self.blocks(tokens) - self.held.get(rid, 0)
        if extra > 0:
            if extra > self.free:
                raise CapacityError(
                    f"KV-cache: request {rid} needs {extra} blocks, {self.free} free"
                )
            self.free -= extra
            self.held[rid] = self.held.get(rid, 0) + extra

    def release(self, rid: int) -> int:
        """Free every block of request `rid`; returns how many."""
        blocks = self.held.pop(rid, 0)
        self.free += blocks
        return blocks

    @property
    def utilization(self) -> float:
        return (self.total - self.free) / self.total
