"""The command line, one module per command (`scan`, `snapshot`, `remediate`, `baseline`, `diff`,
`checks`, `merge`, `config`, `completion`) and small shared modules: `arguments` (parsing
conventions), `outputs` (the output contract), `channels` (escaped, redacted stdout/stderr) and
`app` (the parser and the one guard that maps every ending onto a documented exit code).
"""
from __future__ import annotations

from .app import build_parser, configure_logging, main

__all__ = ["build_parser", "configure_logging", "main"]
