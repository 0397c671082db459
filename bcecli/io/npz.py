"""``.npz`` input: one array of a NumPy archive, streamed like .npy; never unpickled.

``preds.npz`` reads the archive's only array; ``preds.npz:logits`` the array named
``logits``.  Compressed members (``numpy.savez_compressed``) are inflated as they are read,
so memory stays bounded by one block.  An archive on a pipe is first spooled to a
temporary file, since a zip archive is read from its end.
"""

from __future__ import annotations

import tempfile
from typing import IO, BinaryIO

from bcecli.errors import BceError
from bcecli.io import npy
from bcecli.io.source import Format, Opening, Source
from bcecli.io.textparse import printable

MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive, or an empty one


class _Member:
    """A member of the archive being inflated: a damaged archive is a BceError."""

    def __init__(self, stream: IO[bytes], name: str) -> None:
        self._stream = stream
        self._name = name

    def read(self, n: int = -1, /) -> bytes:
        try:
            return self._stream.read(n)
        except (OSError, EOFError, ValueError) as exc:  # zipfile.BadZipFile, zlib.error
            raise BceError(f"{self._name}: the .npz archive is damaged "
                           f"({' '.join(str(exc).split()) or type(exc).__name__})") from None


def _seekable(opening: Opening) -> BinaryIO:
    if opening.reopen is not None:
        return opening.reopen()
    spool = tempfile.TemporaryFile()
    try:
        while chunk := opening.stream.read(1 << 20):
            spool.write(chunk)
    except OSError as exc:
        spool.close()
        raise BceError(f"{opening.name}: cannot keep the archive in a temporary file "
                       f"({exc.strerror or exc})") from None
    spool.seek(0)
    return spool


def open_npz(opening: Opening) -> Source:
    """The selected (or only) array of an .npz archive as a source of row blocks."""
    import zipfile

    name = opening.name
    fh = _seekable(opening)
    try:
        archive = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        fh.close()
        raise BceError(f"{name}: not a valid .npz archive "
                       f"({' '.join(str(exc).split()) or type(exc).__name__})") from None
    try:
        members = {i.filename.removesuffix(".npy"): i for i in archive.infolist()
                   if not i.is_dir()}
        keys = ", ".join(map(printable, members)) or "none"  # (names from the file: escaped)
        if opening.selector is not None:
            info = members.get(opening.selector)
            if info is None:
                raise BceError(f"{name}: the archive holds no array named "
                               f"'{printable(opening.selector)}'; its arrays: {keys}")
        elif len(members) == 1:
            (info,) = members.values()
        elif not members:
            raise BceError(f"{name}: the .npz archive holds no arrays")
        else:
            raise BceError(f"{name}: the .npz archive holds {len(members)} arrays ({keys}); "
                           f"choose one as {opening.arg}:NAME")
        key = printable(info.filename.removesuffix(".npy"))
        label = f"{name}:{key}"
        try:
            stream = _Member(archive.open(info), label)
        except (zipfile.BadZipFile, NotImplementedError, OSError, ValueError) as exc:
            raise BceError(f"{label}: cannot read this array of the archive "
                           f"({' '.join(str(exc).split()) or type(exc).__name__})") from None
        consumed = [0]
        shape, jobs = npy.read_npy(stream, label, consumed, file_size=info.file_size)
    except BaseException:
        archive.close()
        fh.close()
        raise

    def close() -> None:
        archive.close()
        fh.close()

    return Source(label, jobs, size_bytes=info.file_size, consumed=consumed,
                  whole=len(shape) < 2, closer=close)


FORMAT = Format("npz", {".npz": None}, sniff=lambda first: first.startswith(MAGICS),
                open=open_npz)
"""NumPy's .npz archives: by extension and by a zip archive's magic bytes."""
