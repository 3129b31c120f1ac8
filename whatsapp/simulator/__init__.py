"""A simulator of Meta's Graph API for WhatsApp (a real HTTP server) for development, tests and
benchmarks: same endpoints, validation and error shapes, fault injection, a request log, and signed
webhooks posted back to the app. Start it with `manage.py meta_simulator --port 8765`."""

from whatsapp.simulator.server import SimulatorServer
from whatsapp.simulator.state import Faults, SimulatorState

__all__ = ["Faults", "SimulatorServer", "SimulatorState"]
