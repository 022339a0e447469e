"""`python -m aksaudit.cli`, as `python -m aksaudit`."""
from .app import run_module

run_module()
