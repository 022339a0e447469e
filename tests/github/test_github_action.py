"""The GitHub Action and the example workflow: valid against GitHub's published schemas, wired
consistently (every input, output and step reference exists), and the action's scan script
really runs aksaudit and reports its counts.

actionlint is not used: the PyPI wrapper builds only by downloading the binary from outside the
package registries, which this project's machines cannot reach. The schemas (vendored from
SchemaStore, see tests/data/README.md) plus shellcheck on every `run:` script and the
cross-reference tests below cover what it would catch for these two files.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import EXAMPLES, ROOT, aksaudit_cmd, require_tool

DATA = Path(__file__).resolve().parents[1] / "data"
ACTION = ROOT / "action.yml"
WORKFLOW = EXAMPLES / "github" / "aksaudit.yml"
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def load_yaml(path: Path) -> dict:
    # PyYAML (YAML 1.1) reads the key `on` as the boolean True; GitHub reads it as "on".
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in document:
        document["on"] = document.pop(True)
    return document


@pytest.fixture(scope="module")
def action() -> dict:
    return load_yaml(ACTION)


@pytest.fixture(scope="module")
def workflow() -> dict:
    return load_yaml(WORKFLOW)


def schema_errors(document: dict, schema_file: str) -> list[str]:
    schema = json.loads((DATA / schema_file).read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def expressions(text: str) -> set[str]:
    return {match.strip() for match in EXPRESSION.findall(text)}


def test_action_matches_the_github_action_schema(action):
    assert schema_errors(action, "github-action.schema.json") == []


def test_workflow_matches_the_github_workflow_schema(workflow):
    assert schema_errors(workflow, "github-workflow.schema.json") == []


def test_schemas_reject_a_broken_action_so_the_check_has_teeth(action):
    broken = dict(action, runs={"using": "composite", "steps": [{"run": "true"}]})  # composite run needs a shell
    assert schema_errors(broken, "github-action.schema.json")


def test_action_references_only_declared_inputs_and_step_outputs(action):
    text = ACTION.read_text(encoding="utf-8")
    referenced = {m.group(1) for e in expressions(text) for m in re.finditer(r"inputs\.([\w-]+)", e)}
    assert referenced <= set(action["inputs"]), referenced - set(action["inputs"])
    step_ids = {step.get("id") for step in action["runs"]["steps"]} - {None}
    for name, output in action["outputs"].items():
        step, written = re.fullmatch(r"\$\{\{ steps\.([\w-]+)\.outputs\.([\w-]+) \}\}", output["value"]).groups()
        assert step in step_ids, name
        assert written == name


def test_action_scripts_never_interpolate_expressions(action):
    """`${{ }}` inside `run:` is template injection; values must arrive through `env:`."""
    scripts = {step.get("name"): step["run"] for step in action["runs"]["steps"] if "run" in step}
    assert {name for name, script in scripts.items() if "${{" in script} == set()


def test_action_installs_its_own_checkout_and_runs_aksaudit_scan(action):
    steps = action["runs"]["steps"]
    install = next(step for step in steps if "pip install" in step.get("run", ""))
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert '"$ACTION_PATH"' in install["run"]
    assert any(step.get("uses", "").startswith("actions/setup-python@") for step in steps)
    scan = scan_step(action)
    assert scan["env"]["AKSAUDIT"] == f"${{{{ steps.{install['id']}.outputs.aksaudit }}}}"
    assert '"${AKSAUDIT:-aksaudit}" "${args[@]}"' in scan["run"]


def scan_step(action: dict) -> dict:
    return next(step for step in action["runs"]["steps"] if step.get("id") == "scan")


def test_workflow_permissions_and_triggers(workflow):
    assert workflow["permissions"]["id-token"] == "write"
    assert workflow["permissions"]["security-events"] == "write"
    assert workflow["permissions"]["contents"] == "read"
    assert set(workflow["permissions"]) <= {"id-token", "security-events", "contents", "actions"}
    assert {"schedule", "workflow_dispatch"} <= set(workflow["on"])
    assert workflow["on"]["schedule"][0]["cron"]


def uses_steps(workflow: dict) -> dict[str, dict]:
    return {step["uses"].split("@")[0]: step for job in workflow["jobs"].values()
            for step in job["steps"] if "uses" in step}


def test_workflow_steps_login_with_oidc_scan_upload_and_summarise(workflow, action):
    steps = uses_steps(workflow)
    login = steps["azure/login"]
    assert {"client-id", "tenant-id"} <= set(login["with"])
    assert not {"creds", "client-secret"} & set(login["with"]), "OIDC: no stored secret"

    scan = next(step for name, step in steps.items() if name.endswith("/aksaudit"))
    assert set(scan["with"]) <= set(action["inputs"]), set(scan["with"]) - set(action["inputs"])

    # The action uploads in batches itself: upload-sarif merges a directory into one upload,
    # which code scanning rejects above 20 runs.
    assert "github/codeql-action/upload-sarif" not in steps
    assert scan["with"].get("upload", action["inputs"]["upload"]["default"]) == "true"
    upload = next(step for step in action["runs"]["steps"] if step.get("id") == "upload")
    assert "!cancelled()" in upload["if"], "SARIF must be uploaded when findings fail the scan step"
    assert "steps.scan.outputs.exit-code != '2'" in upload["if"], "a scan that could not start uploads nothing"
    assert upload["env"]["GITHUB_TOKEN"] == "${{ inputs.token }}"
    assert upload["env"]["SARIF_DIR"] == "${{ steps.scan.outputs.sarif-dir }}"
    assert "-m aksaudit.github" in upload["run"]

    artifact = steps["actions/upload-artifact"]
    assert scan["with"]["html"] in artifact["with"]["path"]
    assert "!cancelled()" in artifact["if"]

    summary = [step for job in workflow["jobs"].values() for step in job["steps"]
               if "GITHUB_STEP_SUMMARY" in step.get("run", "")]
    assert summary and scan["with"]["markdown"] in summary[0]["run"]


def test_workflow_reads_only_outputs_the_action_declares(workflow, action):
    scan_id = next(step["id"] for step in uses_steps(workflow).values() if step["uses"].split("@")[0].endswith("/aksaudit"))
    read = {m.group(1) for e in expressions(WORKFLOW.read_text(encoding="utf-8"))
            for m in re.finditer(rf"steps\.{scan_id}\.outputs\.([\w-]+)", e)}
    assert read and read <= set(action["outputs"]), read - set(action["outputs"])


def test_every_third_party_action_is_pinned_to_a_version(workflow, action):
    uses = [step["uses"] for step in action["runs"]["steps"] if "uses" in step]
    uses += [step["uses"] for step in uses_steps(workflow).values()]
    assert {u for u in uses if not re.search(r"@v\d+(\.\d+)*$|@[0-9a-f]{40}$", u)} == set()


def run_scripts() -> dict[str, str]:
    scripts = {}
    for path in (ACTION, WORKFLOW):
        document = load_yaml(path)
        steps = (document["runs"]["steps"] if "runs" in document
                 else [s for job in document["jobs"].values() for s in job["steps"]])
        for step in steps:
            if "run" in step:
                scripts[f"{path.name}: {step.get('name', step.get('id'))}"] = step["run"]
    return scripts


@pytest.mark.parametrize("name", sorted(run_scripts()))
def test_run_scripts_pass_shellcheck(name):
    shellcheck = require_tool("shellcheck", "shellcheck")
    script = "#!/usr/bin/env bash\n" + run_scripts()[name]
    proc = subprocess.run([shellcheck, "--shell=bash", "--severity=style", "-"], input=script, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- the scan step, executed --------------------------------------------------------------------

def supported_scan_flags() -> set[str]:
    help_text = subprocess.run([*aksaudit_cmd(), "scan", "--help"], capture_output=True, text=True).stdout
    return set(re.findall(r"--[a-z][a-z-]+", help_text))


def run_scan_step(action: dict, tmp_path: Path, inputs: dict[str, str], path_prefix: Path | None = None,
                  extra_env: dict[str, str] | None = None):
    """Run the scan step's script as GitHub would: its env from the inputs, GITHUB_OUTPUT a file."""
    step = scan_step(action)
    env = {k: v for k, v in os.environ.items() if not k.startswith("INPUT_")}
    for name, value in step["env"].items():
        match = re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", value)
        if match:  # the others come from earlier steps: here, `aksaudit` is found on PATH
            env[name] = inputs.get(match.group(1), action["inputs"][match.group(1)].get("default", ""))
    output = tmp_path / "github_output"
    output.write_text("")
    env["GITHUB_OUTPUT"] = str(output)
    env.update(extra_env or {})
    bin_dirs = [str(path_prefix)] if path_prefix else []
    bin_dirs.append(str(Path(sys.executable).parent))  # the `aksaudit` script of the interpreter under test
    env["PATH"] = os.pathsep.join(bin_dirs + [env.get("PATH", "")])
    proc = subprocess.run(["bash", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if line)
    return proc, outputs


def output_inputs(tmp_path: Path) -> dict[str, str]:
    """Report inputs for the flags this build's `scan` offers (SARIF, HTML, Markdown arrive separately)."""
    flags = supported_scan_flags()
    wanted = {"sarif-dir": "sarif", "html": "report.html", "markdown": "summary.md"}
    return {name: (value if f"--{name}" in flags else "") for name, value in wanted.items()}


def test_scan_step_reports_counts_from_the_json_and_fails_on_findings(action, tmp_path):
    inputs = {"snapshot": str(EXAMPLES / "tutorial.json"), "json": "out.json", "python-version": "",
              **output_inputs(tmp_path)}
    proc, outputs = run_scan_step(action, tmp_path, inputs)
    assert proc.returncode == 1, proc.stderr
    summary = json.loads((tmp_path / "out.json").read_text())["summary"]["by_severity"]
    assert outputs["exit-code"] == "1"
    assert outputs["complete"] == "true"
    assert outputs["findings"] == str(sum(summary.values())) and outputs["findings"] != "0"
    assert {s: outputs[s] for s in summary} == {s: str(n) for s, n in summary.items()}
    assert set(outputs) == set(action["outputs"])
    assert outputs["sarif-dir"] == inputs["sarif-dir"]
    if inputs["sarif-dir"]:
        assert list((tmp_path / "sarif").glob("*.sarif"))
    for name in ("html", "markdown"):
        if inputs[name]:
            assert (tmp_path / inputs[name]).stat().st_size > 0


def test_scan_step_passes_fail_on_through(action, tmp_path):
    inputs = {"snapshot": str(EXAMPLES / "tutorial.json"), "fail-on": "never", "sarif-dir": "", "html": "",
              "markdown": ""}
    proc, outputs = run_scan_step(action, tmp_path, inputs)
    assert proc.returncode == 0, proc.stderr
    assert outputs["exit-code"] == "0" and outputs["findings"] != "0"
    assert outputs["sarif-dir"] == ""


def test_scan_step_that_cannot_start_still_reports_its_exit_code(action, tmp_path):
    inputs = {"snapshot": str(tmp_path / "missing.json"), "sarif-dir": "", "html": "", "markdown": ""}
    proc, outputs = run_scan_step(action, tmp_path, inputs)
    assert proc.returncode == 2
    assert outputs == {"exit-code": "2", "sarif-dir": ""}


def test_scope_lists_become_repeated_flags(action, tmp_path):
    """Newline- and comma-separated scopes; names keep their inner spaces, blanks vanish."""
    recorder = tmp_path / "bin"
    recorder.mkdir()
    (recorder / "aksaudit").write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "$ARGS_FILE"\n')
    (recorder / "aksaudit").chmod(0o755)
    inputs = {"subscriptions": "00000000-0000-4000-8000-000000000001, Platform Prod\n\n  Team A  \n",
              "management-groups": "mg-landing-zones", "cloud": "AzureUSGovernment", "config": "audit.toml",
              "fail-on": "high", "sarif-dir": "sarif", "html": "", "markdown": "m.md", "json": "r.json"}
    run_scan_step(action, tmp_path, inputs, path_prefix=recorder, extra_env={"ARGS_FILE": str(tmp_path / "args")})
    argv = (tmp_path / "args").read_text().splitlines()
    pairs = set(zip(argv[1::2], argv[2::2]))
    assert argv[0] == "scan"
    assert pairs == {("--json", "r.json"), ("--subscription", "00000000-0000-4000-8000-000000000001"),
                     ("--subscription", "Platform Prod"), ("--subscription", "Team A"),
                     ("--management-group", "mg-landing-zones"), ("--cloud", "AzureUSGovernment"),
                     ("--fail-on", "high"), ("--config", "audit.toml"), ("--sarif-dir", "sarif"),
                     ("--markdown", "m.md")}


def test_the_readme_shows_exactly_the_example_workflow():
    """The README's paste-able workflow is the tested one, not a copy that drifts."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- workflow:start", 1)[1].split("<!-- workflow:end -->", 1)[0]
    shown = block.split("```yaml\n", 1)[1].rsplit("```", 1)[0]
    assert shown == WORKFLOW.read_text(encoding="utf-8")
