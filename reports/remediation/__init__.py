"""Remediation scripts: reviewable, guarded Azure CLI fixes rendered from findings."""
from .script import Block, RemediationScript, ScanHeader, check_templates, finding_blocks, render

__all__ = ["Block", "RemediationScript", "ScanHeader", "check_templates", "finding_blocks", "render"]
