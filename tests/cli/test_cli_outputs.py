"""The output contract, as users meet it (subprocess runs of the CLI).

`-` is stdout and at most one output may use it; devices, FIFOs and /dev/fd/N are written
directly and stay what they are; regular files are written atomically with the umask's mode; an
output naming an input or another output is refused before anything runs (exit 2, nothing
written).
"""
from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import EXAMPLES, aksaudit_cmd

TUTORIAL = EXAMPLES / "tutorial.json"


def run(*args: str, cwd: Path | None = None, umask: int | None = None, **kwargs) -> subprocess.CompletedProcess:
    def set_umask() -> None:
        if umask is not None:
            os.umask(umask)
    return subprocess.run([*aksaudit_cmd(), *args], capture_output=True, text=True, cwd=cwd, timeout=120,
                          preexec_fn=set_umask, **kwargs)


def saved_result(tmp_path: Path) -> Path:
    out = tmp_path / "saved.json"
    assert run("scan", str(TUTORIAL), "-q", "--json", str(out)).returncode == 1
    return out


def test_two_outputs_to_stdout_are_refused_before_anything_is_written():
    proc = run("scan", "--snapshot", str(TUTORIAL), "--json", "-", "--markdown", "-")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "--json and --markdown" in proc.stderr and "stdout" in proc.stderr


@pytest.mark.parametrize("flag", ["--snapshot", "positional", "--baseline", "--approved", "--config"])
def test_an_output_naming_an_input_is_refused_and_the_input_kept(tmp_path, flag):
    snapshot = tmp_path / "estate.json"
    snapshot.write_bytes(TUTORIAL.read_bytes())
    inputs = {"--snapshot": snapshot, "positional": snapshot, "--baseline": saved_result(tmp_path),
              "--approved": tmp_path / "approved.json", "--config": tmp_path / "aksaudit.toml"}
    assert run("baseline", "approve", "--snapshot", str(snapshot), "-o", str(inputs["--approved"])).returncode == 0
    inputs["--config"].write_text('fail-on = "high"\n')
    victim = inputs[flag]
    before = victim.read_bytes()
    source = [str(snapshot)] if flag == "positional" else ["--snapshot", str(snapshot)]
    extra = [] if flag in ("--snapshot", "positional") else [flag, str(victim)]
    # The same file under another spelling: a relative path through '..', and a hard link.
    alias = tmp_path / "sub" / ".." / victim.name
    (tmp_path / "sub").mkdir()
    for output in (str(alias), str(victim)):
        proc = run("scan", *source, *extra, "--json", output)
        assert proc.returncode == 2, proc.stderr
        assert "would destroy it" in proc.stderr and "Traceback" not in proc.stderr
        assert victim.read_bytes() == before
    link = tmp_path / "hardlink.json"
    os.link(victim, link)
    proc = run("scan", *source, *extra, "--html", str(link))
    assert proc.returncode == 2 and victim.read_bytes() == before


def test_two_outputs_naming_one_file_are_refused_and_the_old_report_kept(tmp_path):
    report = tmp_path / "report.json"
    report.write_text("previous report")
    proc = run("scan", str(TUTORIAL), "--json", str(report), "--sarif", str(tmp_path / "." / "report.json"))
    assert proc.returncode == 2 and "name the same file" in proc.stderr
    assert report.read_text() == "previous report"
    proc = run("scan", str(TUTORIAL), "--sarif-dir", str(tmp_path), "--sarif", str(tmp_path / "subscription-x.sarif"))
    assert proc.returncode == 2 and "name the same file" in proc.stderr


def test_merge_writes_only_to_o_and_never_over_a_shard(tmp_path):
    shard = saved_result(tmp_path)
    before = shard.read_bytes()
    proc = run("merge", str(shard), "-o", str(shard))
    assert proc.returncode == 2 and "would destroy it" in proc.stderr and shard.read_bytes() == before
    proc = run("merge", str(shard), str(TUTORIAL))  # the old form: the first argument was the output
    assert proc.returncode == 2 and "-o" in proc.stderr and shard.read_bytes() == before
    merged = tmp_path / "merged.json"
    proc = run("merge", str(shard), "-o", str(merged))
    assert proc.returncode == 1, proc.stderr
    assert json.loads(merged.read_text())["findings"] == json.loads(before)["findings"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o027])
def test_written_files_follow_the_umask(tmp_path, umask):
    report, script = tmp_path / "r.json", tmp_path / "fix.sh"
    report.write_text("old")
    os.chmod(report, 0o666)  # an existing file's mode is not what decides
    proc = run("scan", str(TUTORIAL), "-q", "--json", str(report), "--remediation", str(script), umask=umask)
    assert proc.returncode == 1, proc.stderr
    assert stat.S_IMODE(report.stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(script.stat().st_mode) == 0o777 & ~umask
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_fifo_is_written_into_not_replaced(tmp_path):
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    proc = run("scan", str(TUTORIAL), "-q", "--json", str(fifo))
    reader.join(timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert json.loads(received[0])["schema_version"] == 1


def test_dev_fd_and_dev_stdout_are_written_directly():
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([*aksaudit_cmd(), "scan", str(TUTORIAL), "-q", "--json", f"/dev/fd/{write_end}"],
                            pass_fds=(write_end,), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        document = json.loads(pipe.read())
    assert proc.wait(timeout=120) == 1, proc.stderr.read()
    assert document["schema_version"] == 1
    proc = run("scan", str(TUTORIAL), "-q", "--json", "/dev/stdout")
    assert proc.returncode == 1 and json.loads(proc.stdout)["schema_version"] == 1


def _device(tmp_path: Path) -> Path:
    """A character device to write to: a private node like /dev/null when we may make one, else /dev/null."""
    node = tmp_path / "null"
    if os.geteuid() == 0:
        null = os.stat("/dev/null")
        try:
            os.mknod(node, 0o666 | stat.S_IFCHR, null.st_rdev)
            return node
        except OSError:
            pass
    return Path("/dev/null")


def test_a_character_device_stays_a_device_even_as_root(tmp_path):
    device = _device(tmp_path)
    proc = run("scan", str(TUTORIAL), "-q", "--json", str(device), "--html", str(device), "--sarif", "/dev/null")
    assert proc.returncode == 1, proc.stderr
    assert stat.S_ISCHR(os.stat(device).st_mode)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert not list(device.parent.glob(".null.*"))


def test_a_report_on_stdout_keeps_its_bytes_and_the_summary_goes_to_stderr(tmp_path):
    proc = run("scan", str(TUTORIAL), "--json", "-")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["schema_version"] == 1
    assert "Clusters compliant" in proc.stderr


def test_the_readme_command_with_json_to_a_device_leaves_the_device(tmp_path):
    """The quick start's scan, as root where we are root, with its JSON sent to a null device."""
    from test_reports_cli import _readme_main_command
    device = _device(tmp_path)
    arguments = _readme_main_command()
    arguments[arguments.index("--json") + 1] = str(device)
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "tutorial.json").write_bytes(TUTORIAL.read_bytes())
    proc = run(*arguments, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert stat.S_ISCHR(os.stat(device).st_mode) and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert (tmp_path / "out" / "report.html").is_file()
