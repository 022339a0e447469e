"""The measurements behind benchmarks/run.py, each run in a fresh process by run.py.

A fresh process per measurement keeps the numbers honest: peak RSS is that measurement's own,
nothing is warm from an earlier one, and the emulator serving pages runs in yet another process
so it never competes with the scan for one interpreter.

    python benchmarks/measure.py offline ESTATE.json OUTDIR      # parse/model/checks/render
    python benchmarks/measure.py live ESTATE.json --source arg    # against an emulator (env set)

Each prints one JSON object on stdout.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import ssl
import sys
import time
from dataclasses import replace
import urllib.request
from pathlib import Path
from typing import Any, Iterable, Iterator

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from estate import expected_findings, load_expected  # noqa: E402

PAGE = 1000  # Resource Graph rows per page


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


class TimedRows:
    """Rows from the streaming reader, with the time spent decoding them added up (the parse phase)."""

    def __init__(self, rows: Iterable[Any]) -> None:
        self._rows = rows
        self.seconds = 0.0
        self.count = 0

    def __iter__(self) -> Iterator[Any]:
        iterator = iter(self._rows)
        clock = time.perf_counter
        while True:
            started = clock()
            try:
                row = next(iterator)
            except StopIteration:
                self.seconds += clock() - started
                return
            self.seconds += clock() - started
            self.count += 1
            yield row


def compare(findings: Iterable[Any], estate_path: str) -> dict[str, Any]:
    """The scan's (check, lower-cased id, locus) set against the generator's ground truth."""
    got = {f.key for f in findings}
    expected = expected_findings(load_expected(estate_path))
    return {"correct": got == expected, "findings": len(got), "expected": len(expected),
            "missing": sorted(list(k) for k in expected - got)[:10],
            "unexpected": sorted(list(k) for k in got - expected)[:10]}


def offline(estate_path: str, outdir: str) -> dict[str, Any]:
    """Parse, model, checks and each renderer, timed apart, as `aksaudit scan --snapshot` runs them."""
    started = time.perf_counter()
    from aksaudit.run.bulk import gc_paused
    from aksaudit.collect.snapshot import open_snapshot
    from aksaudit.analysis.effective_egress import effective_egress
    from aksaudit.run.engine import run_scan
    from aksaudit.model.estate import build_estate
    from aksaudit.run.registry import load_registry
    from aksaudit.reports import html, json_report, sarif
    from aksaudit.cli.outputs import write_output

    checks = load_registry().checks
    startup = time.perf_counter() - started
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def phase(name: str, wall0: float, cpu0: float) -> tuple[float, float]:
        wall1, cpu1 = time.perf_counter(), time.process_time()
        timings[name], cpu[name] = wall1 - wall0, cpu1 - cpu0
        return wall1, cpu1

    wall, proc = time.perf_counter(), time.process_time()
    snapshot = open_snapshot(estate_path)
    rows = TimedRows(snapshot.rows)
    with gc_paused():
        estate = build_estate(rows, source=snapshot.source, unreadable_scopes=snapshot.unreadable_scopes)
        wall_model, proc_model = phase("parse_and_model", wall, proc)
        result = run_scan(estate, checks, scopes=snapshot.scope_labels, meta=snapshot.meta)
        # As the pipeline does after the checks: the effective egress of every cluster.
        result = replace(result, egress=effective_egress(estate))
        wall, proc = phase("checks", wall_model, proc_model)
        write_output(out / "result.json", json_report.chunks(result))  # as `scan --json` writes it
        wall, proc = phase("json", wall, proc)
        rss_json = peak_rss_mb()
        (out / "result.sarif").write_text(sarif.render(result), encoding="utf-8")
        wall, proc = phase("sarif", wall, proc)
        page = html.render(result)
        (out / "report.html").write_text(page, encoding="utf-8")
        phase("html", wall, proc)
    timings["parse"] = rows.seconds
    timings["model"] = timings.pop("parse_and_model") - rows.seconds
    cpu["parse_and_model"] = cpu.pop("parse_and_model")
    total = timings["parse"] + timings["model"] + timings["checks"] + timings["json"]
    total_cpu = cpu["parse_and_model"] + cpu["checks"] + cpu["json"]
    size = Path(estate_path).stat().st_size
    return {
        "rows": rows.count, "input_bytes": size, "startup_seconds": round(startup, 3),
        "seconds": {k: round(v, 3) for k, v in timings.items()},
        "cpu_seconds": {k: round(v, 3) for k, v in cpu.items()},
        "scan_seconds": round(total, 3),  # parse through JSON output
        "scan_cpu_seconds": round(total_cpu, 3),
        "ms_per_1k_rows": round(1000 * total / max(1, rows.count) * 1000, 2),
        "cpu_ms_per_1k_rows": round(1000 * total_cpu / max(1, rows.count) * 1000, 2),
        "sarif_html_seconds": round(timings["sarif"] + timings["html"], 3),
        "html_bytes": len(page.encode("utf-8")),
        "peak_rss_mb_through_json": round(rss_json, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_over_input": round(peak_rss_mb() * 1024 * 1024 / size, 2),
        "clusters": result.clusters_total, "paths": len(result.paths), "complete": result.complete,
        **compare(result.findings, estate_path),
    }


def why_timing(estate_path: str, queries: int) -> dict[str, Any]:
    """`aksaudit why` after the estate is loaded: seconds per question, the first question on each
    firewall included (it compiles that firewall's rules), over clusters spread across the estate
    and destinations of every kind (an address a rule allows, one it does not, a CIDR, a host name
    with and without its address)."""
    from aksaudit.analysis.why import find_cluster, parse_destination, why
    from aksaudit.run.bulk import gc_paused
    from aksaudit.collect.snapshot import open_snapshot
    from aksaudit.model.estate import build_estate

    started = time.perf_counter()
    snapshot = open_snapshot(estate_path)
    rows = TimedRows(snapshot.rows)
    with gc_paused():
        estate = build_estate(rows, source=snapshot.source, unreadable_scopes=snapshot.unreadable_scopes)
    load = time.perf_counter() - started
    clusters = sorted(estate.clusters.values(), key=lambda c: c.id.lower())
    step = max(1, len(clusters) // max(1, queries // 5))
    picked = clusters[::step][: max(1, queries // 5)]
    destinations = [("20.1.2.3:443", None), ("8.8.8.8:53/udp", None), ("20.0.0.0/12:443", None),
                    ("mcr.microsoft.com:443", None), ("api.example.com:443", "20.30.40.50")]
    seconds: list[float] = []
    cpu_seconds: list[float] = []
    slowest = (0.0, "")
    verdicts: dict[str, int] = {}
    for cluster in picked:
        for text, ip in destinations:
            begin, begin_cpu = time.perf_counter(), time.process_time()
            with gc_paused():  # as the command runs it
                answer = why(estate, find_cluster(estate, cluster.id), parse_destination(text, ip))
            seconds.append(time.perf_counter() - begin)
            cpu_seconds.append(time.process_time() - begin_cpu)
            slowest = max(slowest, (seconds[-1], f"{cluster.header.name} {text}"))
            verdicts[answer.verdict] = verdicts.get(answer.verdict, 0) + 1
    ordered = sorted(seconds)
    return {"rows": rows.count, "clusters": len(clusters), "load_seconds": round(load, 3),
            "questions": len(seconds), "verdicts": verdicts, "max_seconds": round(ordered[-1], 4),
            "median_seconds": round(ordered[len(ordered) // 2], 4), "first_seconds": round(seconds[0], 4), "slowest": slowest[1],
            "max_cpu_seconds": round(max(cpu_seconds), 4)}


def emulator_stats() -> dict[str, Any]:
    """Request counts from the emulator named by the environment (loopback, its own CA)."""
    context = ssl.create_default_context(cafile=os.environ["REQUESTS_CA_BUNDLE"])
    with urllib.request.urlopen(os.environ["AKSAUDIT_ARM_ENDPOINT"] + "/emulator/stats", context=context,
                                timeout=30) as response:
        return json.loads(response.read())


def lower_bound(manifest: dict[str, Any], queries: list[dict[str, Any]], required: Iterable[str]) -> dict[str, Any]:
    """sum over queried tables of ceil(rows / 1000), from the generator's counts per type."""
    from aksaudit.collect.queries import RESOURCE_CONTAINERS, plan_queries

    counts = manifest["type_counts"]
    tables = {q.table: sum(counts.get(t, 0) for t in q.types) for q in plan_queries(required)}
    if any(q["table"] == RESOURCE_CONTAINERS for q in queries):
        tables[RESOURCE_CONTAINERS] = manifest["subscriptions"]
    pages = {table: math.ceil(rows / PAGE) for table, rows in tables.items()}
    return {"rows_per_table": tables, "pages_per_table": pages, "lower_bound": sum(pages.values())}


def user_cpu_seconds() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_utime


def live(estate_path: str, source: str, subscriptions: list[str], concurrency: int,
         dependency_lists: bool = True) -> dict[str, Any]:
    """One live collection from the emulator the environment points at, then its findings and
    (Resource Graph only) the change history of the resources they point at, as a scan reads it."""
    import logging

    from aksaudit.collect.arm import collect_arm
    from aksaudit.collect.clients import connect
    from aksaudit.collect.clouds import resolve_cloud
    from aksaudit.collect.live import LiveOptions, ScopeRequest, collect_live
    from aksaudit.collect.live_only import live_only_types
    from aksaudit.run.engine import run_scan
    from aksaudit.model.estate import build_estate
    from aksaudit.run.registry import load_registry
    from aksaudit.model.resources import T_OUTBOUND_ENDPOINTS
    from aksaudit.run.sources import settler

    logging.getLogger("azure").addHandler(logging.NullHandler())
    checks = load_registry().checks
    needed = {t.lower() for c in checks for t in c.meta.requires}
    implied = live_only_types(needed) - (set() if dependency_lists else {T_OUTBOUND_ENDPOINTS})
    required = sorted(needed | implied)  # as `scan` asks: the ARM lookups included
    clients = connect(resolve_cloud("AzureCloud"))
    request = ScopeRequest(tuple(subscriptions))
    collect = collect_arm if source == "arm" else collect_live
    before = emulator_stats()
    started = time.perf_counter()
    options = LiveOptions(concurrency=concurrency, settle=settler(checks))  # as `scan` collects
    snapshot = collect(required, request, clients, options=options)
    wall = time.perf_counter() - started
    after = emulator_stats()
    cpu = user_cpu_seconds()
    counts = {k: after[k] - before[k] for k in after if k not in ("peak_in_flight", "arm_by_kind")}
    by_kind = {k: v - before["arm_by_kind"].get(k, 0) for k, v in after["arm_by_kind"].items()
               if v - before["arm_by_kind"].get(k, 0)}
    report: dict[str, Any] = {
        "source": source, "wall_seconds": round(wall, 3), "complete": snapshot.complete,
        "gaps": list(snapshot.gaps)[:5], "rows": len(snapshot.rows), "subscriptions": len(subscriptions) or None,
        "requests": counts["arm"] if source == "arm" else counts["graph"],
        "throttled": counts["arm_throttled"] if source == "arm" else counts["graph_throttled"],
        "failed": counts["arm_failed"] if source == "arm" else counts["graph_failed"],
        "peak_rss_mb": round(peak_rss_mb(), 1), "user_cpu_seconds": round(cpu, 2),
        "arm_by_kind": by_kind, "lookups": sum(v for k, v in by_kind.items() if k != "list"),
        "lookups_skipped": {kind: sum((record.get("skipped") or {}).values())
                            for kind, record in (snapshot.meta.get("arm_lookups") or {}).items()},
    }
    if source == "arg":
        queries = list(snapshot.meta.get("queries", []))
        report["query_batches"] = len(queries)
        report.update(lower_bound(load_expected(estate_path), queries, [t for t in required if t in needed]))
    if not subscriptions:  # the whole tenant: the findings must be the ground truth
        result = run_scan(build_estate(snapshot.rows, unreadable_scopes=snapshot.unreadable_scopes), checks)
        report.update(compare(result.findings, estate_path))
        if source == "arg":
            report.update(change_history(clients, [f.resource_id for f in result.findings]))
    return report


def change_history(clients: Any, resource_ids: list[str]) -> dict[str, Any]:
    """The change-history read of a scan that reports these findings: its requests, against its
    lower bound (one page per planned query: the tables are empty in the emulator), through the
    scan's own Resource Graph quota limiter."""
    from aksaudit.collect.changes import change_reader, plan_change_queries, read_change_history
    from aksaudit.collect.live import LiveOptions

    before = emulator_stats()["graph"]
    started = time.perf_counter()
    found = read_change_history(change_reader(clients, LiveOptions()), resource_ids)
    return {"change_requests": emulator_stats()["graph"] - before, "change_lower_bound": len(plan_change_queries(resource_ids)),
            "change_seconds": round(time.perf_counter() - started, 3), "change_complete": not found.errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/measure.py")
    sub = parser.add_subparsers(dest="what", required=True)
    one = sub.add_parser("offline")
    one.add_argument("estate")
    one.add_argument("outdir")
    two = sub.add_parser("live")
    two.add_argument("estate")
    two.add_argument("--source", choices=("arg", "arm"), default="arg")
    two.add_argument("--subscription", action="append", default=[])
    two.add_argument("--concurrency", type=int, default=8)
    two.add_argument("--no-dependency-lists", dest="dependency_lists", action="store_false",
                     help="as `scan --no-dependency-lists`: no cluster's own dependency list is asked for")
    three = sub.add_parser("why", help="seconds per 'aksaudit why' question after the estate is loaded")
    three.add_argument("estate")
    three.add_argument("--queries", type=int, default=50)
    args = parser.parse_args(argv)
    if args.what == "offline":
        report = offline(args.estate, args.outdir)
    elif args.what == "why":
        report = why_timing(args.estate, args.queries)
    else:
        report = live(args.estate, args.source, args.subscription, args.concurrency, args.dependency_lists)
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
