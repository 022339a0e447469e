"""Remediation scripts: reviewable, guarded Azure CLI fixes rendered from findings.

`script.py` assembles one script: the common part (`script.sh.j2`: plan or apply, the one place
az runs and what it refuses, the summary) and the shared operations (`operations/<name>/`: bash
functions, the state they guard with, shared call templates), then one block per finding from
its check's `remediation.sh.j2`. `shell.py` makes unquoted interpolation impossible, `context.py`
computes what a template needs, `jmes.py` keeps names as data in JMESPath, and `contract.py` finds
what a template reads of the evidence, for the contract tests.
"""
from .script import Block, RemediationScript, ScanHeader, check_templates, finding_blocks, render

__all__ = ["Block", "RemediationScript", "ScanHeader", "check_templates", "finding_blocks", "render"]
