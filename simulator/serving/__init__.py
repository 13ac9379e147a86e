"""LLM serving above the simulator: request streams, schedulers, a paged KV-cache and a simpy
request-level engine whose iterations are priced by simulate() on each batch's shapes."""

from simulator.serving.capacity import capacity, rate_sweep
from simulator.serving.costs import Batch, Cost, CostModel
from simulator.serving.engine import ClosedLoop, Fleet
from simulator.serving.metrics import ServingResult, Slo
from simulator.serving.models import Model, list_models, load_model
from simulator.serving.requests import (
    Lengths,
    RequestSpec,
    fixed_batch,
    gamma,
    load_trace,
    poisson,
)
from simulator.serving.run import serve
from simulator.serving.scheduler import Limits

__all__ = [
    "Batch",
    "ClosedLoop",
    "Cost",
    "CostModel",
    "Fleet",
    "Lengths",
    "Limits",
    "Model",
    "RequestSpec",
    "ServingResult",
    "Slo",
    "capacity",
    "fixed_batch",
    "gamma",
    "list_models",
    "load_model",
    "load_trace",
    "poisson",
    "rate_sweep",
    "serve",
]
