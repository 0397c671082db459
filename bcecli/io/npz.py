"""``.npz`` input: one array of a NumPy archive, streamed like .npy; never unpickled.

``preds.npz`` reads the archive's only array; ``preds.npz:logits`` the array named
``logits``.  Compressed members (``numpy.savez_compressed``) are inflated as they are read,
so memory stays bounded by one block.  An archive on a pipe is first spooled to a
temporary file, since a zip archive is read from its end.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from bcecli.errors import BceError
from bcecli.io import npy
from bcecli.io.source import Format, Opening, Source, seekable
from bcecli.io.textparse import printable

if TYPE_CHECKING:
    import zipfile

MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive, or an empty one


def damage() -> tuple[type[Exception], ...]:
    """What reading a damaged member raises (a bad CRC, a broken deflate stream, a short
    file); zipfile and zlib are imported only for an archive."""
    import zipfile
    import zlib

    return OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error


def damaged(name: str, member: str, exc: BaseException) -> BceError:
    """The error for a member that cannot be read: ``x.npz: the .npz archive is damaged
    (x.npy: Bad CRC-32)``, on one line and with the names escaped."""
    reason = str(exc).replace(f" for file {member!r}", "")  # (named once, escaped, below)
    reason = " ".join(reason.split()) or type(exc).__name__
    return BceError(f"{name}: the .npz archive is damaged ({printable(member)}: "
                    f"{printable(reason)})")


class _Member:
    """A member of the archive being inflated: a damaged archive is a BceError."""

    def __init__(self, stream: IO[bytes], name: str, member: str) -> None:
        self._stream = stream
        self._name = name
        self._member = member

    def read(self, n: int = -1, /) -> bytes:
        try:
            return self._stream.read(n)
        except damage() as exc:
            raise damaged(self._name, self._member, exc) from None


def keys(infos: list[zipfile.ZipInfo]) -> list[str]:
    """The name of each member as it is selected: without ``.npy``, as numpy's ``files``
    says it, unless another member has that name too (``x`` and ``x.npy``): then as is."""
    names = [i.filename for i in infos]
    short = [n.removesuffix(".npy") for n in names]
    return [n if short.count(s) > 1 else s for n, s in zip(names, short, strict=True)]


def select(infos: list[zipfile.ZipInfo], key: str, name: str = "") -> zipfile.ZipInfo | None:
    """The member ``key`` selects, as numpy's ``np.load(f)[key]`` picks it: the member of
    that exact name, else ``key.npy``.  A name the archive holds twice is refused (numpy,
    and zipfile, would silently take the last)."""
    for wanted in (key, key + ".npy"):
        found = [i for i in infos if i.filename == wanted]
        if len(found) > 1:
            raise BceError(f"{name}: the archive holds {len(found)} members named "
                           f"'{printable(wanted)}'; bcecli cannot tell which is meant")
        if found:
            return found[0]
    return None


def open_npz(opening: Opening) -> Source:
    """The selected (or only) array of an .npz archive as a source of row blocks."""
    import zipfile

    name = opening.name
    fh = seekable(opening, "archive")
    try:
        archive = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        fh.close()
        raise BceError(f"{name}: not a valid .npz archive "
                       f"({' '.join(str(exc).split()) or type(exc).__name__})") from None
    try:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        names = keys(infos)
        listed = ", ".join(map(printable, names)) or "none"  # (names from the file: escaped)
        what = "arrays" if all(i.filename.endswith(".npy") for i in infos) else "members"
        if opening.selector is not None:
            info = select(infos, opening.selector, name)
            if info is None:
                raise BceError(f"{name}: the archive holds no array named "
                               f"'{printable(opening.selector)}'; its {what}: {listed}")
        elif len(infos) == 1:
            (info,) = infos
        elif not infos:
            raise BceError(f"{name}: the .npz archive holds no arrays")
        else:
            raise BceError(f"{name}: the .npz archive holds {len(infos)} {what} ({listed}); "
                           f"choose one as {printable(opening.arg)}:NAME")
        label = f"{name}:{printable(names[infos.index(info)])}"
        if info.flag_bits & 0x1:
            raise BceError(f"{name}: the .npz archive is encrypted ({printable(info.filename)});"
                           f" bcecli cannot read encrypted archives")
        try:
            stream = _Member(archive.open(info), name, info.filename)
        except (NotImplementedError, RuntimeError) as exc:  # a compression zipfile lacks
            raise BceError(f"{label}: cannot read this array of the archive "
                           f"({printable(' '.join(str(exc).split()) or type(exc).__name__)})"
                           ) from None
        except damage() as exc:
            raise damaged(name, info.filename, exc) from None
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
