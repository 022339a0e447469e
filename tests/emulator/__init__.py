"""A local, HTTPS-only Azure Resource Graph emulator for tests (never shipped with aksaudit)."""
from .server import Behaviour, Emulator, Fault, Record
from .clock import FakeClock
from .tenant import FAKE_TENANT, Tenant

__all__ = ["Behaviour", "Emulator", "FAKE_TENANT", "FakeClock", "Fault", "Record", "Tenant"]
