"""Writing files so that a reader never sees half of one.

Every file the library writes goes to a temporary file in the target's own
folder (same file system, so the final move is atomic) and is moved into place
with :func:`os.replace` only once it is complete. A write that fails or is
killed leaves the previous file untouched; at worst a hidden
``.NAME.XXXX.partial.EXT`` file stays behind, marked incomplete by its name.

:func:`atomic_write` does this for one file; :class:`OutputSet` stages several
files and moves them together, so a set of outputs is either the new complete
set or the old one (a failure between two moves, the only window left, writes
an ``INCOMPLETE.txt`` note listing what was and was not replaced).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

__all__ = ["OutputSet", "atomic_write", "same_file"]

_PARTIAL = ".partial"


def _temp_name(target: Path) -> Path:
    # same suffix as the target: GDAL chooses a driver by extension
    token = secrets.token_hex(4)
    return target.with_name(f".{target.stem}.{token}{_PARTIAL}{target.suffix}")


def _fsync(path: Path) -> None:
    if path.is_file():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], *, keep_existing: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` when the block succeeds.

    Parameters
    ----------
    path : path-like
        The file to write.
    keep_existing : bool, default False
        Start from a copy of the existing file (a GeoPackage whose other layers
        must survive the write of one layer).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "t.txt"
    >>> with atomic_write(target) as tmp:
    ...     _ = tmp.write_text("complete")
    >>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
    ('complete', ['t.txt'])
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(target)
    if keep_existing and target.is_file():
        shutil.copy2(target, tmp)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written for {target}")
        _fsync(tmp)
        os.replace(tmp, target)
    finally:
        # a failed write leaves the previous file as it was
        for leftover in (tmp, *tmp.parent.glob(tmp.name + "-*")):  # SQLite's -wal/-shm/-journal
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name the same file (resolved paths, or the same inode).

    Examples
    --------
    >>> same_file("a/../b.gpkg", "b.gpkg")
    True
    """
    pa, pb = Path(a), Path(b)
    if pa.exists() and pb.exists():
        return os.path.samefile(pa, pb)
    return pa.resolve() == pb.resolve()


class OutputSet:
    """Stage several output files in one folder and move them into place together.

    Use as a context manager: :meth:`path` gives the staging path of each file
    (same name, in a hidden staging folder inside ``directory``); when the block
    succeeds every staged file is moved into ``directory``; when it fails
    nothing in ``directory`` changes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with OutputSet(out) as staged:
    ...     _ = staged.path("a.csv").write_text("a")
    ...     _ = staged.path("b.csv").write_text("b")
    >>> sorted(p.name for p in out.iterdir())
    ['a.csv', 'b.csv']
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._staging: Path | None = None
        self._names: list[str] = []

    def __enter__(self) -> OutputSet:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._staging = self.directory / f".staging.{secrets.token_hex(4)}{_PARTIAL}"
        self._staging.mkdir()
        return self

    def path(self, name: str) -> Path:
        """Return the staging path of the output ``name`` (a file name, no folders)."""
        if self._staging is None:
            raise RuntimeError("use OutputSet as a context manager")
        if Path(name).name != name:
            raise ValueError(f"{name!r}: give a file name without folders")
        if name not in self._names:
            self._names.append(name)
        return self._staging / name

    def final(self, name: str) -> Path:
        """Return the path ``name`` will have once the set is complete."""
        return self.directory / name

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        staging = self._staging
        assert staging is not None
        try:
            if exc_type is None:
                self._commit(staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _commit(self, staging: Path) -> None:
        written = [n for n in self._names if (staging / n).exists()]
        for name in written:
            _fsync(staging / name)
        done: list[str] = []
        try:
            for name in written:
                os.replace(staging / name, self.directory / name)
                done.append(name)
        except OSError:
            note = self.directory / "INCOMPLETE.txt"
            missing = [n for n in written if n not in done]
            note.write_text(
                "This set of outputs is incomplete: the run failed while moving its files "
                f"into place.\nNew: {', '.join(done) or 'none'}\n"
                f"Not replaced (old or absent): {', '.join(missing)}\n",
                encoding="utf-8",
            )
            raise
        stale = self.directory / "INCOMPLETE.txt"
        if stale.exists() and "INCOMPLETE.txt" not in written:
            stale.unlink()
