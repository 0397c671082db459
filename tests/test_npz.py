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


@pytest.mark.parametrize("name", ["x.npy", "data.csv", "data.json"])
def test_a_selector_on_a_format_without_arrays(files: dict[str, str], tmp_path: Path,
                                               name: str) -> None:
    (tmp_path / "data.csv").write_text("1,2\n")
    (tmp_path / "data.json").write_text("[1, 2]")
    path = files.get(name) or str(tmp_path / name)
    err = fails("bce-logits", "-i", path + ":logits", "-t", "[1, 0]")
    assert ":logits" in err and ".npz" in err


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
