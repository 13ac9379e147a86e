"""The simpy engine that runs a Program on the components of a Machine."""

from simulator.engine.memo import execute
from simulator.engine.trace import Record

__all__ = ["Record", "execute"]
