"""Running the same fit() under `torchrun --nproc_per_node=N` with DistributedDataParallel."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    local_rank: int = 0
    world: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    def broadcast_flag(self, value: bool) -> bool:
        """Rank 0's decision, so every process stops (or goes on) together."""
        if not self.active:
            return value
        flag = torch.tensor([1 if value else 0], dtype=torch.int32)
        dist.broadcast(flag, src=0)
        return bool(flag.item())


def init_distributed() -> DistContext:
    """Join the process group torchrun describes in the environment; a no-op otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend=backend)
        log.info("rank %d of %d joined (%s)", dist.get_rank(), world, backend)
    return DistContext(dist.get_rank(), int(os.environ.get("LOCAL_RANK", "0")), world)


def shutdown_distributed(context: DistContext) -> None:
    if context.active and dist.is_initialized():
        dist.destroy_process_group()
