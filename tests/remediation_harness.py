"""Shared by the remediation tests: scan an estate file with the real aksaudit code, render the
script, and run it against the fake `az` (tests/tools/fake_az) acting on that same file."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aksaudit.collect.snapshot import load_snapshot
from aksaudit.run.engine import ScanResult, run_scan
from aksaudit.model.estate import build_estate
from aksaudit.run.registry import load_registry
from aksaudit.testing import load_fixture
from aksaudit.reports.remediation import RemediationScript, ScanHeader, check_templates, render

HERE = Path(__file__).resolve().parent
FAKE_AZ_DIR = HERE / "tools" / "fake_az"
EXAMPLES = HERE.parent / "examples"
EXAMPLE_ESTATES = ("tutorial.json", "hub-spoke.json", "hub-spoke-drifted.json")
REGISTRY = load_registry()
TEMPLATES = check_templates(REGISTRY.checks)
WITH_TEMPLATES = tuple(sorted(TEMPLATES))


def scan(estate: Path, only: tuple[str, ...] = ()) -> ScanResult:
    """A scan through the real model, checks and engine (every registered check, or `only`)."""
    snapshot = load_snapshot(estate)
    checks = [c for c in REGISTRY.checks if not only or c.id in only]
    return run_scan(build_estate(snapshot.rows, source=snapshot.source), checks, scopes=(f"snapshot:{estate.name}",))


def keys(result: ScanResult) -> frozenset[tuple[str, str, str]]:
    return frozenset(f.key for f in result.findings)


def generate(result: ScanResult, *, include_disruptive: bool = True) -> RemediationScript:
    header = ScanHeader(result.tool_version, result.started_at, result.scopes, result.complete)
    return render(result.findings, TEMPLATES, header, include_disruptive=include_disruptive)


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    calls: tuple[dict[str, Any], ...]  # what the script asked of az, in order

    @property
    def mutating_calls(self) -> tuple[dict[str, Any], ...]:
        return tuple(c for c in self.calls if c["mutating"])


def run_script(script: Path, estate: Path, *args: str, env: dict[str, str] | None = None,
               cwd: Path | None = None) -> Run:
    """Run a generated script with bash, the fake az first on PATH, acting on `estate`."""
    log = estate.with_name(estate.name + f".calls-{len(list(estate.parent.glob(estate.name + '.calls-*')))}.jsonl")
    account = estate.with_name(estate.name + ".account")
    account.unlink(missing_ok=True)  # every run starts logged in but with no subscription chosen
    account.write_text("00000000-0000-0000-0000-000000000000")
    environ = {
        "PATH": os.pathsep.join([str(FAKE_AZ_DIR), str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "HOME": str(estate.parent),
        "LANG": "C.UTF-8",
        "FAKE_AZ_ESTATE": str(estate),
        "FAKE_AZ_LOG": str(log),
        **(env or {}),
    }
    done = subprocess.run([shutil.which("bash") or "bash", str(script), *args], capture_output=True, text=True, env=environ,
                          cwd=cwd or estate.parent, timeout=300)
    calls = tuple(json.loads(line) for line in log.read_text().splitlines()) if log.exists() else ()
    return Run(done.returncode, done.stdout, done.stderr, calls)


def read_rows(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


def row_by_id(rows: list[dict], resource_id: str) -> dict:
    return next(r for r in rows if r["id"].lower() == resource_id.lower())


def sections(stdout: str) -> dict[int, str]:
    """What a script printed per block, by block number."""
    parts = re.split(r"^\[(\d+)\] ", stdout, flags=re.M)
    return {int(number): text for number, text in zip(parts[1::2], parts[2::2])}


def copy_estate(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copyfile(EXAMPLES / name, target)
    return target


def write_rows(rows: list[Any], path: Path) -> Path:
    path.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_script(script: RemediationScript, path: Path) -> Path:
    path.write_text(script.text, encoding="utf-8")
    return path


# Names (and a description) of the drifted estate, replaced by strings a shell would act on.
RENAMES = {
    "rg-spoke-payments-weu": "rg pay$(touch pwned-rg);`touch pwned-rg2`",
    "rg-hub-fwpolicy-weu": "rg 'hub' \"fw\" $(touch pwned-hub)",
    "default-to-afw": "default'\"$(touch pwned-route)\"\n;touch pwned-route2",
    "snet-aks-pods": "snet-pods`touch pwned-subnet`",
    "rcg-aks-workloads": "rcg?x=1#$(touch pwned-rcg)%20&",
    "net-temp": "net-temp$(touch pwned-coll)';\n\"`touch pwned-coll2`",
    "temp-debug": "temp-debug\n`touch pwned-rule`;$(touch pwned-rule2)\\'",
    "app-aks-workloads": "app `touch pwned-app` ]|@",
    "allow-all-web": "all'ow\"$(touch pwned-web)`\"`",
    "debugging egress issue": "$(touch pwned-desc)\n`touch pwned-desc2`; '\"",
}
TAGS = {"owner": "$(touch pwned-tag)", "note": "a\nb;`touch pwned-tag2`'\""}


# Names in the bad fixtures of the catalog checks with automated fixes (routes, peerings, VNets,
# policies, clusters), replaced the same way. Tabs and newlines stay out of VNet, resource group
# and peering names: Azure allows neither there, and the script reads peerings as tab-separated.
CATALOG_RENAMES = {
    "rg-spoke-orders-weu": "rg ord$(touch pwned-rg);`touch pwned-rg2`",
    "rg-hub-network-weu": "rg 'hub' \"net\" $(touch pwned-hub)",
    "azure-eastus-direct": "east'\"$(touch pwned-route)\"\n;touch pwned-route2",
    "peer-orders-weu-to-hub": "peer-orders$(touch pwned-peer)`touch pwned-peer2`'",
    "vnet-spoke-billing-weu": "vnet-billing;$(touch pwned-vnet)",
    "afwp-sandbox": "afwp `touch pwned-policy` ]|@",
    "rg-lab-network": "rg-lab\n$(touch pwned-lab)",
    "aks-etl": "aks-etl$(touch pwned-aks)'",
    "rt-spoke-etl-weu-egress": "rt etl `touch pwned-rt`",
}


def _rename(value: Any, renames: dict[str, str] = RENAMES) -> Any:
    if isinstance(value, str):
        for old, new in renames.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_rename(v, renames) for v in value]
    if isinstance(value, dict):
        return {k: _rename(v, renames) for k, v in value.items()}
    return value


def _hostile(rows: list[Any], renames: dict[str, str], path: Path) -> Path:
    rows = _rename(rows, renames)
    for row in rows:
        row["tags"] = dict(row.get("tags") or {}, **TAGS)
    return write_rows(rows, path)


def injection_estate(path: Path) -> Path:
    """The drifted estate with names, tags and descriptions full of shell metacharacters."""
    return _hostile(json.loads((EXAMPLES / "hub-spoke-drifted.json").read_text(encoding="utf-8")), RENAMES, path)


def catalog_injection_estate(check_id: str, path: Path) -> Path:
    """A catalog check's bad fixture with its names and tags full of shell metacharacters."""
    return _hostile(load_fixture(REGISTRY.by_id()[check_id].folder / "bad.json").rows, CATALOG_RENAMES, path)
