"""JSON output v1, the machine contract: the renderer is the contract's one writer, kept beside
its reader in `aksaudit.run.result_json` (schema in reports/aksaudit-v1.schema.json)."""
from __future__ import annotations

from aksaudit.run.result_json import SCHEMA_VERSION, chunks, document, finding_dict, render

__all__ = ["SCHEMA_VERSION", "chunks", "document", "finding_dict", "render"]
