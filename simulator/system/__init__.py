"""Systems of chips: tensor and pipeline parallelism over chips on chip-to-chip links."""

from simulator.system.run import simulate_system

__all__ = ["simulate_system"]
