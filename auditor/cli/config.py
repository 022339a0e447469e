"""`aksaudit config show`: the settings a scan would use, and where each one came from.

A setting comes from a command-line flag, from the configuration file (named), or is the
default. The output is TOML with the origin as a comment, so it can be pasted into
`aksaudit.toml`. Every command that reads the configuration names the file on stderr
(`aksaudit: configuration: PATH`) unless `--quiet` is given: a setting that seems to come from
nowhere is the first thing to explain when a scan behaves unexpectedly.
"""
from __future__ import annotations

import argparse
import json
from typing import Any, Iterator

from aksaudit.reports.check_docs import toml_value
from ..config import OUTPUT_KEYS, Config, load_config
from aksaudit.run.registry import Registry
from ..run.exit_policy import DEFAULT_FAIL_ON, EXIT_OK
from . import channels
from .arguments import add_framework_selection, add_selection, chosen_checks, chosen_frameworks, split
from .outputs import check_paths, named


def announce(config: Config, quiet: bool) -> None:
    """Name the configuration file that was loaded (one line on stderr)."""
    if config.source and not quiet:
        channels.say("configuration", config.source)


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    config = commands.add_parser("config", parents=parents, help="show the effective configuration")
    sub = config.add_subparsers(dest="config_command", required=True)
    show = sub.add_parser("show", parents=parents,
                          help="every setting a scan would use, and where it came from (flag, file, default)")
    add_selection(show)
    add_framework_selection(show)
    for key in sorted(OUTPUT_KEYS):
        show.add_argument(f"--{key}", metavar="PATH", help=f"as for 'scan --{key}'")


def settings(args: argparse.Namespace, registry: Registry, config: Config) -> Iterator[tuple[str, Any, str]]:
    """(key, effective value, origin) for every setting."""
    file = f"file {config.source}"
    for key, flag, from_file in (("select", split(args.select), config.select),
                                 ("ignore", split(args.ignore), config.ignore)):
        if flag:
            yield key, flag, f"flag --{key}"
        elif from_file:
            yield key, list(from_file), file
        else:
            yield key, [], "default (every check)" if key == "select" else "default (none)"
    checks = chosen_checks(registry, split(args.select) or config.select, split(args.ignore) or config.ignore)
    yield "# checks that run", [c.id for c in checks], "select and ignore"
    frameworks = [f.id for f in chosen_frameworks(split(args.framework) or config.frameworks)]
    if split(args.framework):
        yield "frameworks", frameworks, "flag --framework"
    elif config.frameworks:
        yield "frameworks", frameworks, file
    else:
        yield "frameworks", frameworks, "default (every bundled framework)"
    if args.fail_on:
        yield "fail-on", args.fail_on, "flag --fail-on"
    else:
        yield "fail-on", config.fail_on or DEFAULT_FAIL_ON, file if config.fail_on else "default"
    for key in sorted(OUTPUT_KEYS):
        flag = getattr(args, key.replace("-", "_"), None)
        if flag:
            yield f"output.{key}", flag, f"flag --{key}"
        elif key in config.outputs:
            yield f"output.{key}", config.outputs[key], file
    for check in registry.checks:
        if check.id in config.severity:
            yield f"severity.{check.id}", config.severity[check.id].value, file
        else:
            yield f"severity.{check.id}", check.meta.severity.value, "default"
        for name, default in check.meta.options.items():
            chosen = config.options.get(check.id, {})
            if name in chosen:
                yield f"checks.{check.id}.{name}", chosen[name], file
            else:
                yield f"checks.{check.id}.{name}", default, "default"
    for item in config.suppressions:
        target = item.resource or f"glob {item.resource_glob}"
        expires = f", expires {item.expires.isoformat()}" if item.expires else ""
        yield f"suppress[{item.index}]", f"{item.check} on {target}{expires}: {item.reason}", file


def run(args: argparse.Namespace, registry: Registry, console: Any) -> int:
    check_paths([], named("--config", args.config))
    config = load_config(registry, args.config)
    out = [f"# configuration file: {config.source or 'none found (defaults only)'}"]
    for key, value, origin in settings(args, registry, config):
        if key.startswith("#"):
            out.append(f"{key}: {', '.join(value)}")
        elif value is None:
            out.append(f"# {key}: not set  ({origin})")
        else:
            name = key if key.replace(".", "").replace("-", "").replace("_", "").isalnum() else json.dumps(key)
            out.append(f"{name} = {toml_value(value)}  # {origin}")
    console.print("\n".join(channels.escape(line) for line in out), markup=False, highlight=False, soft_wrap=True)
    return EXIT_OK
