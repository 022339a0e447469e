"""The benchmark: Resource Graph requests, live-scan wall time, offline cost, memory and correctness.

    python benchmarks/run.py            # 1k, 10k, 100k and 1M rows (the 1M size takes a while)
    python benchmarks/run.py --quick    # 1k and 10k rows, under two minutes: what CI runs

Per estate size it generates a hub-and-spoke estate (benchmarks/estate.py) with its ground
truth, then measures, each in a fresh process (benchmarks/measure.py):

* offline: `scan --snapshot` split into parse, model, checks and JSON output, per 1k rows, plus
  SARIF and HTML rendering and peak RSS; also the CLI itself, end to end;
* live, against the Resource Graph emulator on loopback at the default quota (15 per 5 s) with a
  fixed per-request latency: requests against the lower bound sum(ceil(rows / 1000)) per queried
  table, wall time against the quota-bound time requests / 3 s; again with 10% of requests
  answered 429; and the same estate collected with `--source arm`, as a ratio;
* correctness: every scan's findings must equal the generator's ground truth.

It prints a table, writes one JSON file per size (and summary.json) to --out, and exits 1 when a
scan's findings differ from the ground truth, a live scan fails, or (against the committed
reference.json) the offline CPU cost per 1k rows more than doubled. The speed targets are
reported, not enforced: they depend on the machine (see README.md).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from estate import Plan, clusters_for_rows, expected_path, load_expected, write_estate  # noqa: E402

SIZES = {"1k": 1_000, "10k": 10_000, "1k-subs": 20_000, "100k": 100_000, "1M": 1_000_000}
# Sizes shaped otherwise than the default four clusters per landing-zone subscription: '1k-subs'
# is the tenant of the live-scan target, 1,000 subscriptions holding 2,000 clusters (two each).
SIZE_PLANS = {"1k-subs": {"clusters": 2_000, "clusters_per_subscription": 2}}
QUICK_SIZES = ("1k", "10k")
QUOTA, WINDOW = 15, 5.0  # Resource Graph's documented default per user
RTT = 0.03  # seconds of network round trip on every request, whatever the endpoint
ARG_LATENCY = 1.0  # service seconds per Resource Graph page (1,000 rows with properties), on top of RTT
ARM_LATENCY = 0.05  # service seconds per ARM read (a list page, a lookup), on top of RTT
ARM_READS_PER_SECOND = 25.0  # ARM's documented refill of a subscription's read bucket
VARIANTS = ("base", "lookups")  # as generated; every hub lacking AKS's egress, so every cluster needs its lookup
THROTTLE_EVERY = 10  # every 10th Resource Graph request answered 429: 10%
REGRESSION_FACTOR = 2.0
TARGETS = {
    "requests": "ARG requests <= 1.05 x lower bound + one per query batch",
    "live_wall": "live wall <= 1.15 x quota-bound time (requests / 3 s)",
    "throttled": "zero failed scans with 10% of requests answered 429",
    "offline_100k": "offline scan of 100k rows (parse through JSON) <= 15 s",
    "flat": "per-row cost flat from 10k to 1M rows (within +-25%)",
    "memory_1M": "peak RSS <= 3 x input JSON at 1M rows",
    "render_50k": "SARIF + HTML for 50k findings <= 10 s",
    "browser": "the 10,000-finding HTML report interactive in Chromium within 2 s",
}


def python_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for child processes: no Azure settings of the caller, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AKSAUDIT_"))}
    env["AZURE_CONFIG_DIR"] = env.get("AZURE_CONFIG_DIR", str(Path(tempfile.gettempdir()) / "aksaudit-bench-az"))
    env.update(extra or {})
    return env


def run_json(args: list[str], env: dict[str, str] | None = None, timeout: float = 7200) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env or python_env(),
                          timeout=timeout, cwd=ROOT)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"{' '.join(args[:3])} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ensure_estate(workdir: Path, name: str, plan: Plan) -> Path:
    """The estate file for `plan`, generated once per working directory and plan."""
    path = workdir / f"estate-{name}.json"
    try:
        if load_expected(path)["plan"] == vars(plan) and path.exists():
            return path
    except (OSError, ValueError, KeyError):
        pass
    started = time.perf_counter()
    manifest = write_estate(plan, path)
    print(f"  generated {name}: {manifest.rows} rows, {manifest.bytes / 1e6:.0f} MB, {plan.clusters} clusters, "
          f"{len(manifest.subscription_names)} subscriptions in {time.perf_counter() - started:.1f} s", flush=True)
    return path


@contextmanager
def emulator(estate: Path, *, throttle_every: int = 0) -> Iterator[dict[str, str]]:
    """The Resource Graph/ARM emulator in its own process, on loopback; yields the client environment."""
    command = [sys.executable, "-m", "tests.emulator", str(estate), "--layout", str(expected_path(estate)),
               "--cache", "--lean", "--quota", str(QUOTA), "--window", str(WINDOW), "--latency", str(ARG_LATENCY),
               "--arm-latency", str(ARM_LATENCY), "--rtt", str(RTT)]
    if throttle_every:
        command += ["--throttle-every", str(throttle_every)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=python_env())
    env: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("export "):
                key, _, value = line[len("export "):].strip().partition("=")
                env[key] = value.strip("'")
            elif line.startswith("# serving"):
                break
        if proc.poll() is not None or "AKSAUDIT_ARM_ENDPOINT" not in env:
            raise RuntimeError(f"the emulator did not start: {proc.stderr.read() if proc.stderr else ''}")
        yield python_env(env)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def cli_scan(estate: Path, outdir: Path) -> dict[str, Any]:
    """`aksaudit scan --snapshot ... --json ...` as users run it, end to end (interpreter start included)."""
    outdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "aksaudit", "scan", "--snapshot", str(estate), "--json",
                           str(outdir / "cli.json"), "--quiet", "--fail-on", "never"], capture_output=True, text=True,
                          env=python_env(), cwd=ROOT, timeout=7200)
    wall = time.perf_counter() - started
    return {"wall_seconds": round(wall, 3), "exit_code": proc.returncode, "stderr": proc.stderr[-500:]}


def arm_sample(estate: Path, limit: int) -> list[str]:
    """Every n-th subscription (hubs and landing zones alike), at most `limit`; [] for all of them."""
    names = sorted(load_expected(estate)["subscription_names"])
    if len(names) <= limit:
        return []
    step = len(names) / limit
    return [names[int(i * step)] for i in range(limit)]


def plan_for(name: str, **variant: Any) -> Plan:
    """The estate plan of a size: its own shape when it has one, else about SIZES[name] rows."""
    shape = SIZE_PLANS.get(name) or {"clusters": clusters_for_rows(SIZES[name])}
    return Plan(**shape, **variant)


def warm(path: Path) -> None:
    """Read the estate file once, so the measurement that follows reads it from the page cache.

    The offline numbers are the scan's cost, not the disk's: a file generated (or compared with
    an older build) minutes earlier may have left the cache, and reading 2 GB back from disk put
    several seconds of system time, at random, into whichever measurement came first."""
    with path.open("rb") as handle:
        while handle.read(16 << 20):
            pass


def measure_size(name: str, rows: int, workdir: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    plan = plan_for(name)
    estate = ensure_estate(workdir, name, plan)
    manifest = load_expected(estate)
    report: dict[str, Any] = {"size": name, "rows": manifest["rows"], "input_bytes": manifest["bytes"],
                              "clusters": plan.clusters, "subscriptions": manifest["subscriptions"],
                              "expected_findings": len(manifest["expected"])}
    partial = out / f"{name}.json"

    def keep() -> None:  # after each step: a long run that is stopped still leaves what it measured
        partial.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")

    print(f"  {name}: offline", flush=True)
    warm(estate)
    report["offline"] = run_json(["benchmarks/measure.py", "offline", str(estate), str(workdir / f"out-{name}")])
    report["cli"] = cli_scan(estate, workdir / f"out-{name}")
    keep()
    if not args.skip_live:
        with emulator(estate) as env:
            print(f"  {name}: live Resource Graph", flush=True)
            report["arg"] = run_json(["benchmarks/measure.py", "live", str(estate), "--source", "arg"], env)
            keep()
            sample = arm_sample(estate, args.arm_subscriptions)
            print(f"  {name}: live ARM ({len(sample) or manifest['subscriptions']} subscriptions)", flush=True)
            arm = run_json(["benchmarks/measure.py", "live", str(estate), "--source", "arm",
                            *[a for s in sample for a in ("--subscription", s)]], env)
            scale = manifest["subscriptions"] / len(sample) if sample else 1.0
            arm["extrapolated_from"] = f"{len(sample)} of {manifest['subscriptions']} subscriptions" if sample else ""
            arm["estimated_requests"] = round(arm["requests"] * scale)
            arm["estimated_wall_seconds"] = round(arm["wall_seconds"] * scale, 1)
            report["arm"] = arm
            keep()
        if not args.skip_throttled:
            with emulator(estate, throttle_every=THROTTLE_EVERY) as env:
                print(f"  {name}: live Resource Graph, 10% 429", flush=True)
                report["arg_throttled"] = run_json(["benchmarks/measure.py", "live", str(estate), "--source", "arg"],
                                                   env)
        if "lookups" in args.variants:
            report["lookups"] = measure_variant(name, rows, workdir, args)
        arg = report["arg"]
        arg["quota_bound_seconds"] = round(arg["requests"] / (QUOTA / WINDOW), 2)
        arg["wall_over_quota_bound"] = round(arg["wall_seconds"] / arg["quota_bound_seconds"], 3)
        arg.update(bounds(arg))
        arg["requests_allowed"] = math.floor(1.05 * arg["lower_bound"] + arg["query_batches"])
        report["arm_over_arg"] = {
            "requests": round(report["arm"]["estimated_requests"] / max(1, arg["requests"]), 1),
            "wall": round(report["arm"]["estimated_wall_seconds"] / max(0.001, arg["wall_seconds"]), 1)}
    keep()
    return report


def bounds(part: dict[str, Any]) -> dict[str, Any]:
    """A Resource Graph scan's physical bound: its pages at the quota rate, plus its ARM lookups at
    ARM's documented read refill (25 a second), and how far the wall time is from it."""
    quota_bound = part["requests"] / (QUOTA / WINDOW)
    arm_bound = part.get("lookups", 0) / ARM_READS_PER_SECOND
    return {"quota_bound_seconds": round(quota_bound, 2), "arm_rate_seconds": round(arm_bound, 2),
            "wall_over_bound": round(part["wall_seconds"] / max(0.001, quota_bound + arm_bound), 3)}


def measure_variant(name: str, rows: int, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The estate where every hub's firewall lacks AKS's required egress: both sources, live."""
    plan = plan_for(name, aks_egress_blocked=True)
    estate = ensure_estate(workdir, f"{name}-lookups", plan)
    manifest = load_expected(estate)
    report: dict[str, Any] = {"clusters": plan.clusters, "subscriptions": manifest["subscriptions"],
                              "expected_findings": len(manifest["expected"])}
    with emulator(estate) as env:
        print(f"  {name} (every cluster looked up): live Resource Graph", flush=True)
        report["arg"] = run_json(["benchmarks/measure.py", "live", str(estate), "--source", "arg"], env)
        report["arg"].update(bounds(report["arg"]))
        sample = arm_sample(estate, args.arm_subscriptions)
        print(f"  {name} (every cluster looked up): live ARM", flush=True)
        report["arm"] = run_json(["benchmarks/measure.py", "live", str(estate), "--source", "arm",
                                  *[a for s in sample for a in ("--subscription", s)]], env)
        report["arm"]["extrapolated_from"] = f"{len(sample)} of {manifest['subscriptions']}" if sample else ""
    return report


def request_counts(sizes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the quick benchmark gates on, per size and estate variant: Resource Graph requests
    (estate and change history) and ARM requests by kind. Exact numbers: they do not depend on
    the machine, and one more request per resource shows up as hundreds more."""
    counts: dict[str, dict[str, Any]] = {}
    for name, size in sizes.items():
        for variant, part in (("base", size.get("arg")), ("lookups", (size.get("lookups") or {}).get("arg"))):
            if part:
                counts[f"{name}/{variant}"] = {"graph": part["requests"], "change_history": part.get("change_requests", 0),
                                               **{f"arm {k}": v for k, v in sorted(part.get("arm_by_kind", {}).items())}}
    return counts


def request_gate(sizes: dict[str, dict[str, Any]], reference: dict[str, Any]) -> list[str]:
    """Every request count that differs from the reference's. More requests is a regression; fewer
    is an improvement to record (`--write-reference`); either way the numbers must be looked at."""
    problems = []
    known = reference.get("requests") or {}
    for key, now in request_counts(sizes).items():
        then = known.get(key)
        if then is None:
            continue
        for what in sorted(set(now) | set(then)):
            got, expected = now.get(what, 0), then.get(what, 0)
            if got != expected:
                problems.append(f"{key}: {what} requests {got}, the reference has {expected}"
                                + (" (more: a request per resource in series?)" if got > expected else
                                   " (fewer: record it with --write-reference)"))
    return problems


def measure_render(findings: int, workdir: Path, out: Path) -> dict[str, Any]:
    """SARIF and HTML for about `findings` findings: every spoke misconfigured (one finding each)."""
    plan = Plan(clusters=max(10, int(findings * 0.96)), misconfig_rate=1.0)
    estate = ensure_estate(workdir, f"render-{findings}", plan)
    print(f"  render: ~{findings} findings", flush=True)
    result = run_json(["benchmarks/measure.py", "offline", str(estate), str(workdir / f"out-render-{findings}")])
    report = {"findings": result["findings"], "sarif_seconds": result["seconds"]["sarif"],
              "html_seconds": result["seconds"]["html"], "sarif_html_seconds": result["sarif_html_seconds"],
              "html_bytes": result["html_bytes"], "paths": result["paths"], "correct": result["correct"]}
    (out / "render.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return report


def measure_browser(out: Path) -> dict[str, Any] | None:
    """The 10,000-finding HTML report in Chromium (benchmarks/html_interactive.py); None without a browser."""
    print("  browser: 10,000-finding report in Chromium", flush=True)
    proc = subprocess.run([sys.executable, "benchmarks/html_interactive.py", "--runs", "3"], capture_output=True,
                          text=True, cwd=ROOT, env=python_env(), timeout=3600)
    if proc.returncode == 2 or not proc.stdout.strip().startswith("{"):
        print(f"  browser: skipped ({proc.stderr.strip()[-200:]})", flush=True)
        return None
    report = json.loads(proc.stdout)
    (out / "browser.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return report


def verdicts(sizes: dict[str, dict[str, Any]], render: dict[str, Any] | None,
             browser: dict[str, Any] | None = None) -> dict[str, Any]:
    """Each target: met, missed, or not measured in this run (and the numbers it was judged on)."""
    found: dict[str, Any] = {}
    live = {n: s for n, s in sizes.items() if "arg" in s}
    if live:
        found["requests"] = all(s["arg"]["requests"] <= s["arg"]["requests_allowed"] for s in live.values())
        big = {n: s for n, s in live.items() if s["arg"]["requests"] > QUOTA}  # where the quota binds at all
        found["live_wall"] = all(s["arg"]["wall_over_quota_bound"] <= 1.15 for s in big.values()) if big else None
        throttled = [s["arg_throttled"] for s in live.values() if "arg_throttled" in s]
        found["throttled"] = all(t["complete"] and t["correct"] for t in throttled) if throttled else None
    if "100k" in sizes:
        found["offline_100k"] = sizes["100k"]["offline"]["scan_seconds"] <= 15
    if "10k" in sizes and "1M" in sizes:
        base = sizes["10k"]["offline"]["cpu_ms_per_1k_rows"]
        found["flat"] = all(abs(s["offline"]["cpu_ms_per_1k_rows"] / base - 1) <= 0.25
                            for n, s in sizes.items() if n in ("100k", "1M"))
    if "1M" in sizes:
        found["memory_1M"] = sizes["1M"]["offline"]["rss_over_input"] <= 3
    if render and render["findings"] >= 50_000:
        found["render_50k"] = render["sarif_html_seconds"] <= 10
    if browser:
        found["browser"] = browser["median_ms"]["load"] <= 2000
    return found


def correctness_failures(sizes: dict[str, dict[str, Any]], render: dict[str, Any] | None) -> list[str]:
    problems = []
    for name, size in sizes.items():
        for key in ("offline", "arg", "arg_throttled"):
            part = size.get(key)
            if part is None:
                continue
            if not part.get("correct", False):
                problems.append(f"{name} {key}: findings differ from the ground truth "
                                f"(missing {part.get('missing')}, unexpected {part.get('unexpected')})")
            if key != "offline" and not part.get("complete"):
                problems.append(f"{name} {key}: the live scan is incomplete: {part.get('gaps')}")
        variant = (size.get("lookups") or {}).get("arg")
        if variant and not (variant.get("correct") and variant.get("complete")):
            problems.append(f"{name} lookups estate: findings differ from the ground truth or the scan is incomplete "
                            f"(missing {variant.get('missing')}, unexpected {variant.get('unexpected')}, "
                            f"gaps {variant.get('gaps')})")
        if size.get("arm") and not size["arm"].get("complete"):
            problems.append(f"{name} arm: the ARM collection is incomplete: {size['arm'].get('gaps')}")
        if size["cli"]["exit_code"] != 0:
            problems.append(f"{name} cli: exit code {size['cli']['exit_code']}: {size['cli']['stderr']}")
    if render and not render["correct"]:
        problems.append("render estate: findings differ from the ground truth")
    return problems


def regressions(sizes: dict[str, dict[str, Any]], reference: dict[str, Any]) -> list[str]:
    problems = []
    for name, size in sizes.items():
        known = (reference.get("sizes") or {}).get(name)
        if not known:
            continue
        now, then = size["offline"]["cpu_ms_per_1k_rows"], known["offline"]["cpu_ms_per_1k_rows"]
        if now > REGRESSION_FACTOR * then:
            problems.append(f"{name}: offline CPU cost {now:.1f} ms per 1k rows is more than "
                            f"{REGRESSION_FACTOR:g}x the reference {then:.1f}")
    return problems


def fmt(value: Any, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


def table(sizes: dict[str, dict[str, Any]], render: dict[str, Any] | None,
          browser: dict[str, Any] | None = None) -> str:
    head = ("| size | rows | ARG requests (lower bound, batches) | live wall s (quota-bound s) | 10% 429: wall s, "
            "429s, complete | ARM requests, wall s (x ARG) | offline ms per 1k rows: parse/model/checks/json = "
            "total (CPU) | CLI s | SARIF+HTML s | peak RSS MB (x input) | correct |")
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    for name, s in sizes.items():
        o = s["offline"]
        per = {k: 1e6 * v / max(1, o["rows"]) for k, v in o["seconds"].items()}
        arg, thr, arm = s.get("arg"), s.get("arg_throttled"), s.get("arm")
        correct = all(part.get("correct", True) for part in (o, arg or {}, thr or {}))
        lines.append(
            f"| {name} | {s['rows']:,} | "
            + (f"{arg['requests']} ({arg['lower_bound']}, {arg['query_batches']}) | "
               f"{arg['wall_seconds']:.1f} ({arg['quota_bound_seconds']:.1f}) = {arg['wall_over_quota_bound']:.2f}x | "
               + (f"{thr['wall_seconds']:.1f}, {thr['throttled']}, {'yes' if thr['complete'] else 'NO'} | " if thr
                  else "- | ")
               + f"{arm['estimated_requests']:,}, {arm['estimated_wall_seconds']:.0f}"
               f"{'*' if arm['extrapolated_from'] else ''} ({s['arm_over_arg']['wall']:g}x) | "
               if arg else "- | - | - | - | ")
            + f"{per['parse']:.0f}/{per['model']:.0f}/{per['checks']:.0f}/{per['json']:.0f} = "
              f"{o['ms_per_1k_rows']:.0f} ({o['cpu_ms_per_1k_rows']:.0f}) | {s['cli']['wall_seconds']:.1f} | "
              f"{o['sarif_html_seconds']:.1f} | {o['peak_rss_mb']:.0f} ({o['rss_over_input']:.2f}x) | "
              f"{'yes' if correct else 'NO'} |")
    if render:
        lines.append("")
        lines.append(f"SARIF + HTML for {render['findings']:,} findings ({render['paths']:,} egress paths): "
                     f"{render['sarif_seconds']:.1f} s + {render['html_seconds']:.1f} s = "
                     f"{render['sarif_html_seconds']:.1f} s; HTML {render['html_bytes'] / 1e6:.1f} MB")
    if browser:
        lines.append("")
        lines.append(f"HTML report with {browser['findings']:,} findings in Chromium: interactive after "
                     f"{browser['median_ms']['load']:.0f} ms (median of {browser['runs']}), "
                     f"{browser['html_bytes'] / 1e6:.1f} MB ({browser['html_gzip_bytes'] / 1e6:.1f} MB gzipped); "
                     + ", ".join(f"{k} {v:.0f} ms" for k, v in browser["median_ms"].items() if k != "load"))
    if any(s.get("arm", {}).get("extrapolated_from") for s in sizes.values()):
        lines.append("")
        lines.append("* ARM collection measured on a sample of subscriptions and scaled by the subscription count: "
                     + "; ".join(f"{n}: {s['arm']['extrapolated_from']}" for n, s in sizes.items()
                                 if s.get("arm", {}).get("extrapolated_from")))
    return "\n".join(lines)


def live_table(sizes: dict[str, dict[str, Any]]) -> str:
    """Per size, estate variant and source: requests against their bounds, lookups, time, CPU, memory."""
    head = ("| size | estate | source | requests (lower bound) | change history (lower bound); estate + history "
            "| ARM lookups by kind (not asked) | wall s (bound s: quota + lookups at 25/s) | user CPU s | peak RSS MB |")
    lines = [head, "|---" * (head.count("|") - 1) + "|"]
    for name, size in sizes.items():
        for variant, holder in (("base", size), ("lookups", size.get("lookups") or {})):
            for source in ("arg", "arm"):
                part = holder.get(source)
                if not part:
                    continue
                kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(part.get("arm_by_kind", {}).items()) if k != "list")
                skipped = sum((part.get("lookups_skipped") or {}).values())
                bound = (f" ({part['quota_bound_seconds'] + part['arm_rate_seconds']:.1f})"
                         if source == "arg" and "arm_rate_seconds" in part else "")
                lower = f" ({part['lower_bound']})" if "lower_bound" in part else ""
                history = (f"{part['change_requests']} ({part['change_lower_bound']}); all ARG "
                           f"{part['requests'] + part['change_requests']} "
                           f"({part['lower_bound'] + part['change_lower_bound']})"
                           if "change_requests" in part and "lower_bound" in part else "-")
                sample = f" [{part['extrapolated_from'].split(' subscriptions')[0]} subscriptions]" \
                    if part.get("extrapolated_from") else ""
                lines.append(f"| {name} | {variant} | {source}{sample} | {part['requests']:,}{lower} | {history} | "
                             f"{kinds or '-'} ({skipped:,}) | {part['wall_seconds']:.1f}{bound} | "
                             f"{part.get('user_cpu_seconds', 0):.1f} | {part['peak_rss_mb']:.0f} |")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform(),
                            "cpus": os.cpu_count()}
    try:
        info["cpu_model"] = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                                 if line.startswith("model name"))
        info["memory_gb"] = round(int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                                            if line.startswith("MemTotal"))) / 1024 ** 2, 1)
    except (OSError, StopIteration):
        pass
    return info


def write_reference(path: Path, summary: dict[str, Any]) -> None:
    """Store a run's per-size numbers as the reference later runs are compared with; sizes the
    run did not measure keep their previous reference."""
    reference = {"machine": summary["machine"], "settings": summary["settings"],
                 "sizes": {n: {"rows": s["rows"], "offline": {k: s["offline"][k] for k in (
                     "ms_per_1k_rows", "cpu_ms_per_1k_rows", "scan_seconds", "peak_rss_mb", "rss_over_input")},
                     **({"arg": {k: s["arg"][k] for k in ("requests", "lower_bound", "wall_seconds",
                                                           "quota_bound_seconds")}} if "arg" in s else {})}
                           for n, s in summary["sizes"].items()},
                 "requests": request_counts(summary["sizes"]),
                 "clusters": {n: s["clusters"] for n, s in summary["sizes"].items()}}
    if path.exists():
        previous = json.loads(path.read_text(encoding="utf-8"))
        reference["sizes"] = {**previous.get("sizes", {}), **reference["sizes"]}
        reference["requests"] = {**previous.get("requests", {}), **reference["requests"]}
        reference["clusters"] = {**previous.get("clusters", {}), **reference["clusters"]}
    path.write_text(json.dumps(reference, indent=1) + "\n", encoding="utf-8")
    print(f"reference written to {path}")


def print_saved(folder: Path, reference: Path | None = None) -> int:
    """The table and the targets of an earlier run, from its JSON files."""
    def load(name: str) -> dict[str, Any] | None:
        path = folder / f"{name}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    sizes = {name: found for name in SIZES if (found := load(name)) is not None}
    render, browser = load("render"), load("browser")
    if reference is not None:
        write_reference(reference, load("summary") or {})
    print(table(sizes, render, browser))
    print()
    print(live_table(sizes))
    print()
    for key, value in verdicts(sizes, render, browser).items():
        print(f"target {'met   ' if value else 'MISSED' if value is False else 'n/a   '}: {TARGETS[key]}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python benchmarks/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK_SIZES)} rows (CI)")
    parser.add_argument("--sizes", help=f"comma-separated subset of {', '.join(SIZES)}")
    parser.add_argument("--workdir", help="where estates are generated and kept (default: a temporary folder)")
    parser.add_argument("--out", default=str(HERE / "results"), help="where the JSON results go (default: %(default)s)")
    parser.add_argument("--reference", default=str(HERE / "reference.json"), help="reference numbers to compare with")
    parser.add_argument("--write-reference", action="store_true",
                        help="store this run (or, with --table-from, that saved run) as the reference")
    parser.add_argument("--skip-live", action="store_true", help="offline measurements only")
    parser.add_argument("--skip-throttled", action="store_true", help="no live scan with 10%% of requests answered 429")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="estate variants measured live: base, and lookups (every cluster needs its AKS lookup)")
    parser.add_argument("--arm-subscriptions", type=int, default=None,
                        help="ARM collection on at most this many subscriptions, scaled up (default: 12 quick, 200 full)")
    parser.add_argument("--render-findings", type=int, default=None,
                        help="findings for the SARIF+HTML measurement (default: 2,000 quick, 50,000 full; 0 skips)")
    parser.add_argument("--browser", action=argparse.BooleanOptionalAction, default=None,
                        help="measure the 10,000-finding report in Chromium (default: on for the full run)")
    parser.add_argument("--table-from", metavar="DIR", help="print the table and targets of a run saved in DIR "
                        "(its <size>.json, render.json, browser.json) without measuring anything")
    args = parser.parse_args(argv)
    args.variants = [v for v in args.variants.split(",") if v]
    if args.table_from:
        return print_saved(Path(args.table_from), Path(args.reference) if args.write_reference else None)
    names = args.sizes.split(",") if args.sizes else list(QUICK_SIZES if args.quick else SIZES)
    unknown = [n for n in names if n not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)} (choose from {', '.join(SIZES)})")
    if args.arm_subscriptions is None:
        args.arm_subscriptions = 12 if args.quick else 200
    render_findings = args.render_findings if args.render_findings is not None else (2_000 if args.quick else 50_000)
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="aksaudit-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    print(f"aksaudit benchmark: {', '.join(names)} rows; estates in {workdir}", flush=True)
    sizes = {name: measure_size(name, SIZES[name], workdir, out, args) for name in names}
    render = measure_render(render_findings, workdir, out) if render_findings else None
    browser = measure_browser(out) if (args.browser if args.browser is not None else not args.quick) else None
    found = verdicts(sizes, render, browser)
    summary = {"machine": machine(), "quick": args.quick, "seconds": round(time.perf_counter() - started, 1),
               "settings": {"quota": QUOTA, "window_seconds": WINDOW, "rtt": RTT, "arg_latency": ARG_LATENCY,
                            "arm_latency": ARM_LATENCY, "throttle_every": THROTTLE_EVERY},
               "targets": {key: {"target": TARGETS[key], "met": value} for key, value in found.items()},
               "sizes": sizes, "render": render, "browser": browser}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print()
    print(table(sizes, render, browser))
    print()
    print(live_table(sizes))
    print()
    for key, value in found.items():
        print(f"target {'met   ' if value else 'MISSED' if value is False else 'n/a   '}: {TARGETS[key]}")
    problems = correctness_failures(sizes, render)
    reference_path = Path(args.reference)
    if args.write_reference:
        write_reference(reference_path, summary)
    elif reference_path.exists():
        known = json.loads(reference_path.read_text(encoding="utf-8"))
        problems += regressions(sizes, known) + request_gate(sizes, known)
    print(f"\n{time.perf_counter() - started:.0f} s; results in {out}")
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
