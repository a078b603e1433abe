"""Agent-based session-log simulator (deterministic by seed)."""
from recpipe.simulator.model import SimulationSpec, World
from recpipe.simulator.writer import DEFECT_KINDS, inject_defects, serialise, simulate_to_landing, to_records

__all__ = ["SimulationSpec", "World", "DEFECT_KINDS", "inject_defects", "serialise", "simulate_to_landing",
           "to_records"]
