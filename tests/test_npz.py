"""``.npz`` archives: the only array, or ``FILE:KEY``; compressed or not; never unpickled."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner, Result

from bcecli.cli import app
from bcecli.io import npy

RNG = np.random.default_rng(9)
X = RNG.normal(scale=2, size=(23, 4))
Y = (RNG.random((23, 4)) < 0.5).astype(float)
runner = CliRunner()


def run(*args: str, input: bytes | None = None) -> Result:
    return runner.invoke(app, list(args), input=input)


def plain(*args: str, input: bytes | None = None) -> str:
    r = run(*args, "-f", "plain", input=input)
    assert r.exit_code == 0, r.stderr
    return r.stdout


def fails(*args: str, input: bytes | None = None) -> str:
    r = run(*args, input=input)
    assert r.exit_code == 2 and r.stdout == "" and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("bcecli: error: ") and r.stderr.count("\n") == 1, r.stderr
    return r.stderr


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", Y)
    np.savez(tmp_path / "one.npz", X)
    np.savez_compressed(tmp_path / "onec.npz", preds=X)
    np.savez(tmp_path / "both.npz", logits=X, labels=Y)
    np.savez_compressed(tmp_path / "bothc.npz", logits=X, labels=Y)
    return {p.name: str(p) for p in tmp_path.iterdir()}


@pytest.mark.parametrize("block", [64, 1 << 20])
def test_npz_gives_the_npy_result(files: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                  block: int) -> None:
    monkeypatch.setattr(npy, "BLOCK_BYTES", block)
    want = plain("bce-logits", "-i", files["x.npy"], "-t", files["y.npy"])
    assert want == plain("bce-logits", "-i", json.dumps(X.tolist()), "-t", files["y.npy"])
    for x, y in [(files["one.npz"], files["y.npy"]), (files["onec.npz"], files["y.npy"]),
                 (files["both.npz"] + ":logits", files["both.npz"] + ":labels"),
                 (files["bothc.npz"] + ":logits", files["bothc.npz"] + ":labels")]:
        assert plain("bce-logits", "-i", x, "-t", y) == want, (x, y)


def test_npz_for_weights_and_on_stdin(files: dict[str, str], tmp_path: Path) -> None:
    np.savez(tmp_path / "w.npz", w=np.array([1.0, 2.0, 0.5, 3.0]))
    want = plain("bce-logits", "-i", files["x.npy"], "-t", files["y.npy"], "-w",
                 "[1, 2, 0.5, 3]")
    assert plain("bce-logits", "-i", files["x.npy"], "-t", files["y.npy"], "-w",
                 str(tmp_path / "w.npz")) == want
    data = Path(files["bothc.npz"]).read_bytes()
    r = run("bce-logits", "-i", "-", "-t", files["y.npy"], "-f", "plain", input=data)
    assert r.exit_code == 2 and "2 arrays (logits, labels)" in r.stderr
    assert "choose one as -:NAME" in r.stderr
    assert plain("bce-logits", "-i", "-:logits", "-t", files["y.npy"], input=data) == \
        plain("bce-logits", "-i", files["x.npy"], "-t", files["y.npy"])
    one = Path(files["one.npz"]).read_bytes()
    assert plain("bce-logits", "-i", "-", "-t", files["y.npy"], input=one) == \
        plain("bce-logits", "-i", files["x.npy"], "-t", files["y.npy"])


def test_npz_sniffed_without_extension(files: dict[str, str], tmp_path: Path) -> None:
    bare = tmp_path / "predictions"
    bare.write_bytes(Path(files["onec.npz"]).read_bytes())
    assert plain("bce-logits", "-i", str(bare), "-t", files["y.npy"]) == \
        plain("bce-logits", "-i", files["x.npy"], "-t", files["y.npy"])


def test_missing_key_lists_the_arrays(files: dict[str, str]) -> None:
    err = fails("bce-logits", "-i", files["both.npz"] + ":probs", "-t", files["y.npy"])
    assert "no array named 'probs'" in err and "logits, labels" in err


def test_several_arrays_need_a_key(files: dict[str, str]) -> None:
    err = fails("bce-logits", "-i", files["both.npz"], "-t", files["y.npy"])
    assert "2 arrays (logits, labels)" in err and "both.npz:NAME" in err


@pytest.mark.parametrize("damage", ["truncated", "garbage", "crc", "empty-archive"])
def test_damaged_archives(files: dict[str, str], tmp_path: Path, damage: str) -> None:
    path = tmp_path / f"{damage}.npz"
    data = Path(files["onec.npz"]).read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    elif damage == "crc":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("x.npy", Path(files["x.npy"]).read_bytes())
        raw = bytearray(buf.getvalue())
        raw[400] ^= 0xFF  # a byte of the stored array: the CRC no longer matches
        path.write_bytes(bytes(raw))
    else:
        with zipfile.ZipFile(path, "w"):
            pass
    err = fails("bce-logits", "-i", str(path), "-t", files["y.npy"])
    assert str(path) in err and ("npz" in err or "archive" in err), err


def test_object_arrays_are_never_unpickled(tmp_path: Path, files: dict[str, str]) -> None:
    marker = tmp_path / "pwned"
    evil = np.array([{"a": 1}], dtype=object)
    np.savez(tmp_path / "evil.npz", evil=evil)
    err = fails("bce-logits", "-i", str(tmp_path / "evil.npz"), "-t", "[1]")
    assert "never unpickles" in err and not marker.exists()


def test_a_path_with_a_colon_is_a_path(tmp_path: Path, files: dict[str, str]) -> None:
    odd = tmp_path / "run:3.npy"
    np.save(odd, X)
    assert plain("bce-logits", "-i", str(odd), "-t", files["y.npy"]) == \
        plain("bce-logits", "-i", files["x.npy"], "-t", files["y.npy"])


def test_a_selector_on_a_format_without_arrays(files: dict[str, str]) -> None:
    err = fails("bce-logits", "-i", files["x.npy"] + ":logits", "-t", "[1, 0]")
    assert ":logits" in err and ".npz" in err


def test_a_selector_on_csv_names_columns(tmp_path: Path) -> None:
    """(A CSV's selector picks its columns: tests/test_columns.py.)"""
    (tmp_path / "data.csv").write_text("1,2\n")
    err = fails("bce-logits", "-i", str(tmp_path / "data.csv") + ":logits", "-t", "[1, 0]")
    assert "no column 'logits'" in err and "no header" in err


def test_npz_errors_name_the_array(files: dict[str, str], tmp_path: Path) -> None:
    bad = X.copy()
    bad[7, 2] = np.nan
    np.savez(tmp_path / "bad.npz", logits=bad)
    err = fails("bce-logits", "-i", str(tmp_path / "bad.npz") + ":logits", "-t", files["y.npy"])
    assert "bad.npz:logits [7, 2]" in err


def test_array_names_are_escaped_in_messages(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    with zipfile.ZipFile(path, "w") as zf:
        for key in ("a\x1b[2J", "b"):
            data = io.BytesIO()
            np.save(data, np.array([0.5, 0.5]))
            zf.writestr(f"{key}.npy", data.getvalue())
    err = fails("bce", "-i", str(path), "-t", "[1, 0]")
    assert "\x1b" not in err and "a\\x1b[2J, b" in err


def _member_offset(raw: bytes) -> int:
    """Where the first member's data starts in a zip archive (after its local header)."""
    import struct

    n, e = struct.unpack("<HH", raw[26:30])
    return 30 + n + e


@pytest.mark.parametrize("rows", [2, 100000])
def test_a_bad_crc_says_the_archive_is_damaged(tmp_path: Path, rows: int) -> None:
    # a small member fails on its header (it used to be called "not a plain Python dict
    # literal"), a big one half-way (it used to be a traceback, exit 1)
    np.savez(tmp_path / "s.npz", x=np.full((rows, 3), 0.5))
    raw = bytearray((tmp_path / "s.npz").read_bytes())
    raw[_member_offset(raw) + min(100, rows * 24 - 1) + (1000000 if rows > 2 else 0)] ^= 1
    (tmp_path / "crc.npz").write_bytes(bytes(raw))
    err = fails("bce", "-i", str(tmp_path / "crc.npz"), "-t", "0.5")
    assert err == f"bcecli: error: {tmp_path / 'crc.npz'}: the .npz archive is damaged " \
                  f"(x.npy: Bad CRC-32)\n"
    err = fails("bce", "-i", "-", "-t", "0.5", input=bytes(raw))
    assert err == "bcecli: error: stdin (--input): the .npz archive is damaged " \
                  "(x.npy: Bad CRC-32)\n"


def test_a_broken_deflate_stream_says_the_archive_is_damaged(tmp_path: Path) -> None:
    np.savez_compressed(tmp_path / "c.npz", x=np.full((1000, 3), 0.5))
    raw = bytearray((tmp_path / "c.npz").read_bytes())
    raw[_member_offset(raw)] = 0xFF  # block type 3: no such deflate block (zlib.error)
    (tmp_path / "z.npz").write_bytes(bytes(raw))
    err = fails("bce", "-i", str(tmp_path / "z.npz"), "-t", "0.5")
    assert err.startswith(f"bcecli: error: {tmp_path / 'z.npz'}: the .npz archive is "
                          f"damaged (x.npy: Error -3 while decompressing data: "), err


def test_an_encrypted_archive_is_refused(tmp_path: Path) -> None:
    np.savez(tmp_path / "s.npz", x=np.full((4, 3), 0.5))
    raw = bytearray((tmp_path / "s.npz").read_bytes())
    raw[6] |= 1  # the "encrypted" flag, in the local header and in the central directory
    raw[raw.find(b"PK\x01\x02") + 8] |= 1
    for arg, data, name in ((str(tmp_path / "e.npz"), None, str(tmp_path / "e.npz")),
                            ("-", bytes(raw), "stdin (--input)")):
        (tmp_path / "e.npz").write_bytes(bytes(raw))
        err = fails("bce", "-i", arg, "-t", "0.5", input=data)
        assert err == f"bcecli: error: {name}: the .npz archive is encrypted (x.npy); " \
                      f"bcecli cannot read encrypted archives\n"


def _archive(path: Path, members: dict[str, float]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for member, value in members.items():
            data = io.BytesIO()
            np.save(data, np.array([[value]]))
            zf.writestr(member, data.getvalue())


def test_names_from_the_archive_and_the_selector_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    _archive(path, {"a\nb\x1b[2J.npy": 0.5, "c": 0.5})
    for arg in (str(path), str(path) + ":no\x1b[2Jpe"):
        err = fails("bce", "-i", arg, "-t", "[[1]]")
        assert "\x1b" not in err and "a\\nb\\x1b[2J, c" in err, err
    assert "no array named 'no\\x1b[2Jpe'" in err
    err = fails("bce", "-i", "-:no\x1b[2Jpe", "-t", "[[1]]", input=b"0.5\n")
    assert "\x1b" not in err and "no column 'no\\x1b[2Jpe'" in err
    good = tmp_path / "good.npz"
    _archive(good, {"x": 2.0})
    err = fails("bce", "-i", str(good) + ":x", "-t", "[[1]]")  # the value 2: its array named
    assert err.startswith(f"bcecli: error: {good}:x [0, 0]: input value 2 is outside"), err


def test_an_array_whose_name_holds_a_colon_is_selected(tmp_path: Path) -> None:
    path = tmp_path / "c.npz"
    _archive(path, {"a:b.npy": 0.25, "a.npy": 0.5})
    assert plain("bce", "-i", f"{path}:a:b", "-t", "[[1]]") == \
        plain("bce", "-i", "[[0.25]]", "-t", "[[1]]")
    assert plain("bce", "-i", f"{path}:a", "-t", "[[1]]") == \
        plain("bce", "-i", "[[0.5]]", "-t", "[[1]]")
    err = fails("bce", "-i", f"{path}:a:c", "-t", "[[1]]")
    assert "no array named 'a:c'; its arrays: a:b, a" in err


@pytest.mark.parametrize("order", [("x", "x.npy"), ("x.npy", "x")])
def test_members_x_and_x_npy_are_picked_as_numpy_picks_them(tmp_path: Path,
                                                          order: tuple[str, str]) -> None:
    path = tmp_path / "both.npz"
    _archive(path, {member: {"x": 0.25, "x.npy": 0.75}[member] for member in order})
    with np.load(path) as npz:  # numpy: "x" is the member x, "x.npy" the member x.npy
        assert npz["x"][0, 0] == 0.25 and npz["x.npy"][0, 0] == 0.75
    for key, value in (("x", "0.25"), ("x.npy", "0.75")):
        assert plain("bce", "-i", f"{path}:{key}", "-t", "[[1]]") == \
            plain("bce", "-i", f"[[{value}]]", "-t", "[[1]]")
    err = fails("bce", "-i", str(path), "-t", "[[1]]")
    assert f"holds 2 members ({', '.join(order)})" in err


def test_a_selector_on_empty_stdin_says_stdin_is_empty() -> None:
    assert fails("bce", "-i", "-:x", "-t", "0.5", input=b"") == \
        "bcecli: error: stdin (--input) is empty\n"


def test_a_name_held_twice_is_refused_not_guessed(tmp_path: Path) -> None:
    """Two members of one name: numpy and zipfile take the last without a word."""
    import io
    import zipfile

    def npy(a: np.ndarray) -> bytes:
        buf = io.BytesIO()
        np.save(buf, a)
        return buf.getvalue()

    path = tmp_path / "dup.npz"
    with zipfile.ZipFile(path, "w") as z, pytest.warns(UserWarning):
        z.writestr("x.npy", npy(np.array([[0.1, 0.9]])))
        z.writestr("x.npy", npy(np.array([[0.7, 0.3]])))
    r = runner.invoke(app, ["bce", "-i", f"{path}:x", "-t", "[[0, 1]]"])
    assert r.exit_code == 2 and r.stdout == ""
    assert "holds 2 members named 'x.npy'" in r.stderr


def test_a_member_that_is_no_array_is_called_a_member(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "mixed.npz"
    np.savez(path, x=np.array([[0.5]]))
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("readme.txt", "hello")
    r = runner.invoke(app, ["bce", "-i", str(path), "-t", "[[1]]"])
    assert r.exit_code == 2 and "holds 2 members (x, readme.txt)" in r.stderr


def test_an_oversized_npy_header_gives_no_pickle_advice(tmp_path: Path) -> None:
    path = tmp_path / "b.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00\xff\xff" + b"{" * 65535)
    r = runner.invoke(app, ["bce", "-i", str(path), "-t", "1"])
    assert r.exit_code == 2 and "allow_pickle" not in r.stderr
    assert "not a valid .npy file" in r.stderr
