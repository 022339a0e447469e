"""The output contract: where a report may go, and how it is written.

* `-` is stdout; at most one output of a command may use it.
* A character device (`/dev/null`, a terminal), a FIFO, and anything under `/dev/` or `/proc/`
  (`/dev/stdout`, `/dev/fd/N` from process substitution) is opened and written directly. It is
  never renamed over: as root, an atomic rename onto `/dev/null` would replace the device with
  a regular file.
* A regular file is written atomically (a temporary file beside it, then a rename), so an
  interrupted run never leaves half a report, with the mode a new file gets under the user's
  umask (0o666 & ~umask; scripts 0o777 & ~umask).
* Before anything runs, every output is checked against every other output and every input
  (the same file by `os.path.samefile`, or the same resolved path for one not yet written):
  writing a report over the snapshot it came from, or two reports over each other, is refused
  (exit 2). Two outputs to the same character device (`/dev/null` twice) are allowed: a stream
  is not clobbered. An output that cannot be written (read-only folder, a parent that is a file,
  a name longer than the file system allows) is refused then too, not after a long scan.
* Text is never trusted to be encodable: a lone surrogate is written as its `\\udXXX` escape
  (in JSON that is the string's own escape, so the document reads back unchanged).
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from . import channels

STDOUT = "-"
DIRECT_PREFIXES = ("/dev/", "/proc/")


class OutputError(Exception):
    """An output cannot be written, or must not be (it names an input or another output)."""


@dataclass(frozen=True)
class NamedPath:
    """One path a command reads or writes, with the flag that named it (for messages)."""
    flag: str
    path: str
    folder: bool = False  # --sarif-dir: files are written inside it


def named(flag: str, value: str | Sequence[str] | None, *, folder: bool = False) -> list[NamedPath]:
    """The path(s) one flag holds (none, one, or a list of inputs)."""
    if value is None or value == "":
        return []
    values = [value] if isinstance(value, (str, os.PathLike)) else list(value)
    return [NamedPath(flag, str(v), folder) for v in values if str(v)]


_REASONS = {
    errno.EACCES: "permission denied: choose a folder you can write to",
    errno.EPERM: "permission denied: choose a folder you can write to",
    errno.EROFS: "the file system is read-only: choose a writable folder",
    errno.ENOTDIR: "a parent of it is a file, not a folder: choose another path",
    errno.ENAMETOOLONG: "the name is longer than the file system allows: choose a shorter path",
    errno.ENOSPC: "no space left on the device: free some space or write elsewhere",
    errno.EDQUOT: "disk quota exceeded: free some space or write elsewhere",
    errno.EISDIR: "is a folder: name a file",
    errno.ENOENT: "its folder does not exist and could not be created",
    errno.ENXIO: "nothing is reading from it (a FIFO without a reader)",
}


def describe(path: str, error: OSError) -> str:
    """One line naming the path, what went wrong, and what to do."""
    reason = _REASONS.get(error.errno or 0, f"{error.strerror or error}")
    return f"cannot write {path}: {reason}"


def _is_stream(path: str) -> bool:
    """Written directly: devices, FIFOs, sockets, and whatever lives under /dev or /proc."""
    if os.path.realpath(path).startswith(DIRECT_PREFIXES) or path.startswith(DIRECT_PREFIXES):
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _is_char_device(path: str) -> bool:
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return False


def _same(a: str, b: str) -> bool:
    if STDOUT in (a, b):
        return a == b
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _inside(folder: str, path: str) -> bool:
    """A SARIF file the folder output would write over (`<folder>/subscription-*.sarif`)."""
    if STDOUT in (folder, path) or not path.endswith(".sarif"):
        return False
    parent = os.path.dirname(path) or "."
    return _same(folder, parent)


def _writable(target: NamedPath) -> None:
    """Refuse, before anything runs, an output that certainly cannot be written."""
    try:
        _probe(target)
    except OSError as error:
        raise OutputError(f"{target.flag} {describe(target.path, error)}") from error


def _probe(target: NamedPath) -> None:
    path = target.path
    if path == STDOUT or _is_stream(path):
        return
    here = Path(path)
    name_max = 255
    ancestor = here if target.folder else here.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        if ancestor.is_symlink():
            break
        ancestor = ancestor.parent
    if ancestor.exists() and not ancestor.is_dir():
        raise OSError(errno.ENOTDIR, "not a folder")
    try:
        name_max = os.pathconf(ancestor, "PC_NAME_MAX")
    except (OSError, ValueError):
        pass
    for part in here.parts:
        if len(os.fsencode(part)) > name_max:
            raise OSError(errno.ENAMETOOLONG, "name too long")
    if here.is_dir() and not target.folder:
        raise OSError(errno.EISDIR, "is a folder")
    if ancestor.is_dir() and not os.access(ancestor, os.W_OK | os.X_OK):
        raise OSError(errno.EROFS if _read_only(ancestor) else errno.EACCES, "not writable")


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def check_paths(outputs: Iterable[NamedPath], inputs: Iterable[NamedPath]) -> None:
    """Refuse, before anything runs, outputs that would clobber an input or each other."""
    outputs, inputs = list(outputs), list(inputs)
    to_stdout = [o for o in outputs if o.path == STDOUT]
    if len(to_stdout) > 1:
        raise OutputError(f"{' and '.join(o.flag for o in to_stdout)} all write to stdout ('-'): "
                          "at most one output may; write the others to files")
    for index, output in enumerate(outputs):
        for source in inputs:
            if source.path != STDOUT and (_same(output.path, source.path)
                                          or (output.folder and _inside(output.path, source.path))):
                raise OutputError(f"{output.flag} {output.path} is the input {source.flag} {source.path}: "
                                  "writing there would destroy it; choose another output path")
        for other in outputs[index + 1:]:
            clash = _same(output.path, other.path) and not _is_char_device(output.path)
            clash = clash or (output.folder and _inside(output.path, other.path)) \
                or (other.folder and _inside(other.path, output.path))
            if clash:
                raise OutputError(f"{output.flag} {output.path} and {other.flag} {other.path} name the same file: "
                                  "one report would overwrite the other; give each its own path")
        _writable(output)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


BATCH = 1 << 20  # characters encoded and written at once when content comes in pieces


def _encode(content: str) -> bytes:
    return content.encode("utf-8", "backslashreplace")


def _batches(content: str | bytes | Iterable[str]) -> Iterator[bytes]:
    """The bytes to write: text encoded, pieces gathered into about a megabyte per write (a
    large report comes in hundreds of thousands of pieces, and is never whole in memory)."""
    if isinstance(content, bytes):
        yield content
        return
    if isinstance(content, str):
        yield _encode(content)
        return
    batch: list[str] = []
    size = 0
    for piece in content:
        batch.append(piece)
        size += len(piece)
        if size >= BATCH:
            yield _encode("".join(batch))
            batch, size = [], 0
    if batch:
        yield _encode("".join(batch))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write_batches(fd: int, content: str | bytes | Iterable[str]) -> None:
    for data in _batches(content):
        _write_all(fd, data)


def _write_stream(path: str, content: str | bytes | Iterable[str]) -> None:
    flags = os.O_WRONLY | os.O_CLOEXEC
    try:
        if stat.S_ISREG(os.stat(path).st_mode):
            flags |= os.O_APPEND  # /dev/stdout redirected to a file: add to it as the shell's `>` would
    except OSError:
        flags |= os.O_CREAT
    fd = os.open(path, flags, 0o666)
    try:
        _write_batches(fd, content)
    finally:
        os.close(fd)


def _write_file(path: str, content: str | bytes | Iterable[str], mode: int) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # The temporary name stays within NAME_MAX even when the target's name is close to it.
    fd, temp = tempfile.mkstemp(prefix=f".{target.name[:64]}.", suffix=".tmp", dir=target.parent)
    try:
        try:
            _write_batches(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_output(path: str | Path, content: str | bytes | Iterable[str], *, executable: bool = False) -> None:
    """Write one output by the contract above; a failure is an OutputError naming the path.
    `content` may come in pieces (text), written as they come."""
    path = str(path)
    if path == STDOUT:
        out = channels.raw_stdout()
        out.flush()
        buffer = getattr(out, "buffer", None)
        for data in _batches(content):
            if buffer is not None:
                buffer.write(data)
            else:
                out.write(data.decode("utf-8"))
        (buffer if buffer is not None else out).flush()
        return
    try:
        if _is_stream(path):
            _write_stream(path, content)
        else:
            _write_file(path, content, (0o777 if executable else 0o666) & ~_umask())
    except OSError as error:
        raise OutputError(describe(path, error)) from error
