"""`python -m aksaudit`: the same command line as the `aksaudit` script."""
from .cli.app import run_module

run_module()
