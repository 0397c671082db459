"""Reliability as a user meets it: real processes, pipes, signals, encodings and limits.

Each test reproduces a defect a red-team run found (issue 8) with the installed command or
``python -m bcecli`` in a subprocess, and checks what the README promises: exit statuses
0/1/2/130, one line on stderr, nothing on stdout after an error, no traceback.
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

BCECLI = [sys.executable, "-m", "bcecli"]
LINUX = sys.platform.startswith("linux")


def run(*args: str, env: dict[str, str] | None = None, **kw: object
        ) -> subprocess.CompletedProcess[bytes]:
    full = {**os.environ, **(env or {})}
    return subprocess.run([*BCECLI, *args], capture_output=True, env=full, timeout=120,
                          **kw)


def clean(proc: subprocess.CompletedProcess[bytes], status: int) -> str:
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == status, (proc.returncode, err[-2000:])
    assert "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def late_nan(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """300,000 rows of logits whose last line holds nan: ~20 MB of CSV output before it."""
    tmp = tmp_path_factory.mktemp("late")
    rng = np.random.default_rng(8)
    x = rng.normal(size=(300_000, 3))
    np.savetxt(tmp / "x.csv", x, delimiter=",", fmt="%.6f")
    with open(tmp / "x.csv", "a") as fh:
        fh.write("0.5,nan,0.5\n")
    np.savetxt(tmp / "t.csv", (rng.random((300_001, 3)) < 0.5), delimiter=",", fmt="%d")
    return str(tmp / "x.csv"), str(tmp / "t.csv")


# ------------------------------------------------------------------ all or nothing


def test_a_late_error_leaves_stdout_empty(late_nan: tuple[str, str]) -> None:
    x, t = late_nan
    proc = run("bce-logits", "-i", x, "-t", t, "-r", "none", "-f", "csv")
    err = clean(proc, 2)
    assert proc.stdout == b""
    assert "line 300001, column 2" in err and "incomplete" not in err
    assert err.count("\n") == 1


def test_stream_writes_as_it_goes_and_says_so(late_nan: tuple[str, str]) -> None:
    x, t = late_nan
    proc = run("bce-logits", "-i", x, "-t", t, "-r", "none", "-f", "csv", "--stream")
    err = clean(proc, 2)
    assert len(proc.stdout) > 1_000_000
    assert "the output written before it is incomplete" in err


def test_a_full_temporary_folder_is_said_as_such(late_nan: tuple[str, str],
                                                 tmp_path: Path) -> None:
    """Output held in a temporary file that cannot grow (a file size limit stands for a full
    TMPDIR): the message says so, not 'cannot read the input'."""
    x, t = late_nan
    clean_t = tmp_path / "t.csv"
    clean_x = tmp_path / "x.csv"
    clean_x.write_bytes(Path(x).read_bytes().rsplit(b"0.5,nan", 1)[0])
    clean_t.write_bytes(b"\n".join(Path(t).read_bytes().split(b"\n")[:300_000]) + b"\n")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4_000_000, 4_000_000))

    proc = run("bce-logits", "-i", str(clean_x), "-t", str(clean_t), "-r", "none", "-f",
               "csv", env={"TMPDIR": str(tmp_path)}, preexec_fn=limit)
    err = clean(proc, 2)
    assert proc.stdout == b""
    assert "temporary file" in err and "--stream" in err and "read the input" not in err


@pytest.mark.skipif(not LINUX, reason="file size limits as on Linux")
def test_a_full_temporary_folder_for_json_is_said_as_such(tmp_path: Path) -> None:
    """-f json keeps its elements in a temporary file past 8 MiB: one that cannot grow (a
    file size limit stands for a full TMPDIR) was 'cannot read the input: ...'."""
    rng = np.random.default_rng(5)
    np.save(tmp_path / "x.npy", rng.normal(size=600_000))  # ~12 MB of JSON elements
    np.save(tmp_path / "y.npy", (rng.random(600_000) < 0.5).astype(float))

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4_000_000, 4_000_000))

    proc = run("bce-logits", "-i", str(tmp_path / "x.npy"), "-t", str(tmp_path / "y.npy"),
               "-f", "json", "--elements", env={"TMPDIR": str(tmp_path)}, preexec_fn=limit)
    err = clean(proc, 2)
    assert proc.stdout == b"" and err.count("\n") == 1
    assert err.startswith(f"bcecli: error: cannot hold the JSON output in a temporary file in "
                          f"{tmp_path} (File too large); free some space there, or set TMPDIR")
    assert "read the input" not in err


# ------------------------------------------------------------------ signals


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    tmp = tmp_path_factory.mktemp("big")
    rng = np.random.default_rng(3)
    block = "".join(",".join(f"{v:.6f}" for v in r) + "\n" for r in rng.normal(size=(4000, 5)))
    labels = "".join(",".join(str(int(v)) for v in r) + "\n"
                     for r in rng.random((4000, 5)) < 0.5)
    (tmp / "x.csv").write_text(block * 600)
    (tmp / "t.csv").write_text(labels * 600)
    return str(tmp / "x.csv"), str(tmp / "t.csv")


def _handlers_set(pid: int, timeout: float = 20.0) -> bool:
    """Whether the process catches SIGTERM yet (bcecli sets it with SIGINT, first thing)."""
    deadline = time.monotonic() + timeout
    bit = 1 << (signal.SIGTERM - 1)
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False
        caught = int(next(line.split()[1] for line in status.splitlines()
                          if line.startswith("SigCgt:")), 16)
        if caught & bit:
            return True
        time.sleep(0.001)
    return False


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_ctrl_c_at_any_moment_after_start_up(tmp_path: Path) -> None:
    """A Ctrl-C anywhere after bcecli's own code starts (its imports included): exit 130,
    one line, never a traceback."""
    x = tmp_path / "x.csv"
    x.write_text("0.5,0.25\n-1,2\n")
    rng = random.Random(5)
    statuses = []
    for _ in range(30):
        proc = subprocess.Popen([*BCECLI, "bce-logits", "-i", str(x), "-t", "[[1,0],[0,1]]"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ready = _handlers_set(proc.pid)
        time.sleep(rng.uniform(0, 0.15))
        if ready:
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        statuses.append(proc.returncode)
        assert b"Traceback" not in err, err.decode()
        assert proc.returncode in (0, 130), (proc.returncode, err)
        if proc.returncode == 130:
            assert err == b"bcecli: interrupted\n" and out == b""
    assert statuses.count(130) >= 10, statuses


@pytest.mark.skipif(not LINUX, reason="reads /proc")
@pytest.mark.parametrize(("sig", "status", "word"), [
    (signal.SIGTERM, 143, "terminated"), (signal.SIGHUP, 129, "hung up"),
    (signal.SIGINT, 130, "interrupted")])
@pytest.mark.parametrize("output", [["-f", "plain"], ["-r", "none", "-f", "csv"],
                                    ["-f", "json"]], ids=["plain", "csv", "json"])
def test_termination_is_prompt_and_clean(big: tuple[str, str], tmp_path: Path, sig: int,
                                         status: int, word: str, output: list[str]) -> None:
    x, t = big
    env = {**os.environ, "TMPDIR": str(tmp_path), "BCECLI_THREADS": "2"}
    proc = subprocess.Popen([*BCECLI, "bce-logits", "-i", x, "-t", t, *output],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert _handlers_set(proc.pid)
    time.sleep(0.3)  # reading and computing by now
    assert proc.poll() is None, "finished before the signal; use a bigger file"
    sent = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 2.0, "no work may go on after the signal"
    assert proc.returncode == status and err == f"bcecli: {word}\n".encode(), err
    assert out == b""
    assert list(tmp_path.iterdir()) == [], "a temporary file was left behind"
    assert not _running(x), "a process is still reading the input"


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_an_inherited_ignored_hangup_stays_ignored(big: tuple[str, str]) -> None:
    """``nohup bcecli ...``: started with SIGHUP ignored, the run goes on when the terminal
    hangs up, and ends as it would have (SIGTERM, not ignored, still ends it)."""
    x, t = big
    proc = subprocess.Popen([*BCECLI, "bce-logits", "-i", x, "-t", t, "-f", "plain"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    assert _handlers_set(proc.pid)
    time.sleep(0.2)
    proc.send_signal(signal.SIGHUP)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert float(out) > 0 and err == b""


def _screen(raw: bytes) -> list[str]:
    """The lines a terminal shows after ``raw`` (enough of one for a progress bar: carriage
    returns, newlines, erasing a line, moving up; other escape sequences change nothing)."""
    import re

    lines, row, col = [""], 0, 0
    for token in re.findall(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[^\[]|[\r\n]|[^\x1b\r\n]+",
                            raw):
        if token == b"\r":
            col = 0
        elif token == b"\n":
            row += 1
            lines += [""] * (row + 1 - len(lines))
        elif token.startswith(b"\x1b["):
            if token.endswith(b"K"):  # erase: the line (2K), or to its end (K)
                lines[row] = "" if token == b"\x1b[2K" else lines[row][:col]
            elif token.endswith(b"A"):
                row = max(0, row - int(token[2:-1] or b"1"))
        elif not token.startswith(b"\x1b"):
            text = token.decode("utf-8", "replace")
            line = lines[row].ljust(col)
            lines[row] = line[:col] + text + line[col + len(text):]
            col += len(text)
    return [line.rstrip() for line in lines if line.strip()]


@pytest.mark.skipif(not LINUX, reason="a Linux pseudo-terminal")
@pytest.mark.parametrize(("send", "status", "word"), [
    ("ctrl-c", 130, "interrupted"), (signal.SIGTERM, 143, "terminated"),
    (signal.SIGHUP, 129, "hung up")], ids=["ctrl-c", "SIGTERM", "SIGHUP"])
def test_a_signal_clears_the_progress_bar(big: tuple[str, str], tmp_path: Path,
                                          send: object, status: int, word: str) -> None:
    """On a terminal, big inputs show a progress bar.  Ctrl-C left it on the screen, with
    the cursor hidden, and the line after the echoed ^C ('^Cbcecli: interrupted')."""
    import fcntl
    import select
    import termios

    x, t = big
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, b"\x14\x00\x50\x00\x00\x00\x00\x00")  # 20x80

    def terminal() -> None:  # the pty as the controlling terminal: ^C is a SIGINT
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    env = {**os.environ, "TMPDIR": str(tmp_path), "BCECLI_THREADS": "2", "TERM": "xterm"}
    proc = subprocess.Popen([*BCECLI, "bce-logits", "-i", x, "-t", t, "-f", "plain"],
                            stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True, preexec_fn=terminal)
    os.close(slave)
    raw = b""
    try:
        deadline = time.monotonic() + 60
        while b"MB" not in raw and time.monotonic() < deadline:  # (the label: "…/x.csv")
            if select.select([master], [], [], 1)[0]:
                raw += os.read(master, 1 << 16)
        assert b"x.csv" in raw and b"/114.0" in raw, raw
        assert proc.poll() is None, "finished before the signal; use a bigger file"
        if send == "ctrl-c":
            os.write(master, b"\x03")
        else:
            assert isinstance(send, signal.Signals)
            proc.send_signal(send)
        while True:
            try:
                more = os.read(master, 1 << 16)
            except OSError:  # EIO: the other side is closed
                break
            if not more:
                break
            raw += more
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert proc.wait(timeout=30) == status
    assert _screen(raw) == [f"bcecli: {word}"], (_screen(raw), raw[-300:])
    assert raw.rfind(b"\x1b[?25h") > raw.rfind(b"\x1b[?25l"), "the cursor is still hidden"
    assert b"Traceback" not in raw
    assert list(tmp_path.iterdir()) == [], "a temporary file was left behind"


@pytest.mark.skipif(not LINUX, reason="a pty")
def test_a_dumb_terminal_gets_no_bar_and_no_escape_sequences(big: tuple[str, str],
                                                             tmp_path: Path) -> None:
    """TERM=dumb cannot redraw a line: no progress bar, no blank line, and a signal's
    message is its one line, with no sequence meant to undo a bar."""
    x, t = big
    for send in (None, signal.SIGINT):
        master, slave = os.openpty()
        env = {**os.environ, "TMPDIR": str(tmp_path), "TERM": "dumb"}
        proc = subprocess.Popen([*BCECLI, "bce-logits", "-i", x, "-t", t, "-f", "plain"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=slave, env=env)
        os.close(slave)
        if send is not None:
            assert _handlers_set(proc.pid)
            time.sleep(0.3)
            proc.send_signal(send)
        status = proc.wait(timeout=120)
        raw = b""
        while True:
            try:
                more = os.read(master, 1 << 16)
            except OSError:
                break
            if not more:
                break
            raw += more
        os.close(master)
        if send is None:
            assert status == 0 and raw == b"", raw
        else:
            assert status == 130 and raw.replace(b"\r\n", b"\n") == b"bcecli: interrupted\n", raw


def _running(path: str) -> bool:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if path.encode() in (entry / "cmdline").read_bytes():
                    return True
            except OSError:
                pass
    return False


# ------------------------------------------------------------------ encodings and terminals


def _ascii_only(data: bytes) -> bool:
    return all(b < 128 for b in data)


@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "cp1252"},
                                 {"PYTHONIOENCODING": "ascii"},
                                 {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0",
                                  "PYTHONIOENCODING": ""}],
                         ids=["cp1252", "ascii", "C-locale"])
def test_streams_that_cannot_encode_the_symbols(env: dict[str, str]) -> None:
    x, t = "[[-0.4089, -1.2471, 0.5907]]", "[[0, 1, 1]]"
    table = run("bce", "--sigmoid", "-i", x, "-t", t, "--explain", env=env)
    clean(table, 0)
    assert b"sigmoid(" in table.stdout and b"0.8166" in table.stdout
    for args in (["ce", "-i", "[[1, 2]]", "-t", "[[0.5, 0.5]]", "--ignore-index", "0"],
                 ["bce", "--help"], ["nll", "-i", "[[1, 2]]", "-t", "[0]", "--explain"]):
        proc = run(*args, env=env)
        clean(proc, 2 if "--ignore-index" in args else 0)
    if env.get("PYTHONIOENCODING") == "ascii":
        assert _ascii_only(table.stdout)


def test_ascii_option() -> None:
    proc = run("ce", "-i", "[[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]]", "-t", "[0, 2]", "--ascii",
               "--explain", "--label-smoothing", "0.1")
    clean(proc, 0)
    assert _ascii_only(proc.stdout) and b"+-----" in proc.stdout
    proc = run("ce", "-i", "[[1, 2]]", "-t", "[[0.5, 0.5]]", "--ignore-index", "0", "--ascii")
    assert _ascii_only(clean(proc, 2).encode())


def test_control_characters_in_a_header_are_escaped(tmp_path: Path) -> None:
    x = tmp_path / "x.csv"
    x.write_bytes(b"a\x1b[2J,b\x1b]0;title\x07\n0.5,0.25\n")
    proc = run("bce", "-i", str(x), "-t", "[[1, 0]]", env={"COLUMNS": "120"})
    clean(proc, 0)
    assert b"\x1b" not in proc.stdout and b"\x07" not in proc.stdout
    assert b"a\\x1b[2J" in proc.stdout


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_stderr_or_stdout_keeps_the_exit_status() -> None:
    args = ["bce-logits", "-i", "[[0.5, 1.0]]", "-t", "[[2, 0]]"]  # warns: target outside
    with open("/dev/full", "w") as full:
        ok = subprocess.run([*BCECLI, *args, "-f", "plain"], stderr=full,
                            stdout=subprocess.PIPE, timeout=60)
        bad = subprocess.run([*BCECLI, "bce", "-i", "nope.csv", "-t", "1"], stderr=full,
                             stdout=subprocess.PIPE, timeout=60)
        no_out = subprocess.run([*BCECLI, *args, "-f", "plain"], stdout=full,
                                stderr=subprocess.PIPE, timeout=60)
    assert ok.returncode == 0 and ok.stdout.strip()
    assert bad.returncode == 2
    assert no_out.returncode == 2 and b"cannot write the output" in no_out.stderr
    assert b"Traceback" not in no_out.stderr


def test_help_survives_optimize_2() -> None:
    for command, formula in (("bce", "ℓ = −w·[y·max(ln p, −100)"), ("nll", "ℓ = −w[y]·x[y]")):
        proc = subprocess.run([sys.executable, "-OO", "-m", "bcecli", command, "--help"],
                              capture_output=True, timeout=60,
                              env={**os.environ, "PYTHONIOENCODING": "utf-8"})
        text = proc.stdout.decode()
        assert proc.returncode == 0
        assert formula in text and "Examples:" in text and "Exit status" in text


# ------------------------------------------------------------------ arithmetic edges


def _json(*args: str) -> dict[str, object]:
    proc = run(*args, "-f", "json")
    clean(proc, 0)
    doc: dict[str, object] = json.loads(proc.stdout)
    return doc


def test_no_classes_with_label_smoothing_is_nan_as_in_torch() -> None:
    """torch 2.13: probability targets give mean nan, sum -0., terms [-0., -0.]; class
    indices (all ignored) give nan for every reduction."""
    e = ("-i", "[[], []]", "--label-smoothing", "0.1")
    assert _json("ce", *e, "-t", "[[], []]")["loss"] is None
    assert run("ce", *e, "-t", "[[], []]", "-r", "sum", "-f", "plain").stdout == b"-0.0\n"
    assert _json("ce", *e, "-t", "[[], []]", "-r", "none")["loss"] == [-0.0, -0.0]
    for reduction in ("mean", "sum"):
        assert _json("ce", *e, "-t", "[-100, -100]", "-r", reduction)["loss"] is None
    assert _json("ce", *e, "-t", "[-100, -100]", "-r", "none")["loss"] == [None, None]


def test_label_smoothing_overflows_as_torch_does() -> None:
    """torch reduces the NLL and the smoothing term apart: their mean overflows (inf)
    although each term (6.75e307) does not."""
    args = ("ce", "-i", "[[0.9e308, 0], [0.9e308, 0]]", "-t", "[1, 1]", "--label-smoothing",
            "0.5")
    for reduction in ("mean", "sum"):
        assert run(*args, "-r", reduction, "-f", "plain").stdout == b"inf\n"
    assert _json(*args, "-r", "none")["loss"] == [6.750000000000001e307] * 2


# ------------------------------------------------------------------ memory


WRAP = ("import os, subprocess, sys; p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL);"
        " _, s, u = os.wait4(p.pid, 0); print(os.waitstatus_to_exitcode(s), u.ru_maxrss, "
        "file=sys.stderr)")
"""Runs a command from a small process and says its exit status and peak RSS (KiB): Linux
charges a child at least its parent's RSS at the spawn, and pytest's is large."""


def _peak_mb(args: list[str], env: dict[str, str] | None = None) -> tuple[int, float, str]:
    """Exit status, peak RSS (MB) and stderr of a run."""
    proc = subprocess.run([sys.executable, "-c", WRAP, *BCECLI, *args], capture_output=True,
                          timeout=300, env={**os.environ, **(env or {})})
    *err, last = proc.stderr.decode().strip().split("\n")
    status, kib = last.split()
    return int(status), int(kib) / 1024, "\n".join(err)


@pytest.fixture(scope="module")
def vectors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("vec")
    rng = np.random.default_rng(2)
    np.save(tmp / "v.npy", rng.normal(size=8_000_000))  # 64 MB
    np.save(tmp / "vy.npy", (rng.random(8_000_000) < 0.5).astype(np.float64))
    np.save(tmp / "x.npy", rng.normal(size=(2_000_000, 4)))  # 64 MB
    np.save(tmp / "lab.npy", rng.integers(0, 4, 2_000_000))
    yield tmp


@pytest.mark.skipif(not LINUX, reason="ru_maxrss in KiB")
@pytest.mark.parametrize("args", [
    ["bce-logits", "-i", "v.npy", "-t", "vy.npy", "-f", "plain"],
    ["bce-logits", "-i", "v.npy", "-t", "vy.npy", "-r", "none", "-f", "csv"],
    ["ce", "-i", "x.npy", "-t", "lab.npy", "-r", "none", "-f", "csv"],
    ["ce", "-i", "x.npy", "-t", "lab.npy", "-f", "json"],
], ids=["vector", "vector-csv", "ce-labels-csv", "ce-labels-json"])
def test_vectors_and_label_files_stream(vectors: Path, args: list[str]) -> None:
    """A (N,) .npy and a ce label vector were read whole (516 MB for 80 MB of input)."""
    status, peak, err = _peak_mb([a if not a.endswith(".npy") else str(vectors / a)
                                  for a in args])
    assert status == 0, err
    assert peak < 150, f"peak RSS {peak:.0f} MB"


@pytest.mark.skipif(not LINUX, reason="ru_maxrss in KiB")
def test_memory_does_not_grow_with_the_threads(big: tuple[str, str], tmp_path: Path) -> None:
    """Each thread added a block or two in flight: 8 threads took 159 MB on 10M values of
    CSV, 64 threads 203 MB on 40 MB.  The window is bounded in bytes, the threads at 16."""
    x, t = (tmp_path / "x.csv", tmp_path / "t.csv")
    with open(big[0], "rb") as fx, open(big[1], "rb") as ft:  # 40 MB of CSV, 200k lines
        x.write_bytes(fx.read(40_000_000).rpartition(b"\n")[0] + b"\n")
        t.write_bytes(b"".join(ft.readline() for _ in range(x.read_bytes().count(b"\n"))))
    peaks = {}
    for threads in ("2", "64"):
        status, peak, err = _peak_mb(["bce-logits", "-i", str(x), "-t", str(t), "-f",
                                      "plain"], env={"BCECLI_THREADS": threads})
        assert status == 0, err
        peaks[threads] = peak
    assert peaks["64"] < 150 and peaks["64"] - peaks["2"] < 20, peaks


def test_blank_lines_before_the_data(tmp_path: Path) -> None:
    """66 MiB of blank lines: the data's line numbers, quickly (was a false 'line longer
    than 64 MiB', and 12 s for exactly 64 MiB)."""
    path = tmp_path / "blank.csv"
    with open(path, "wb") as fh:
        fh.write(b"\n" * (66 << 20))
        fh.write(b"0.5,0.5\n0.5,x\n")
    start = time.monotonic()
    proc = run("bce", "-i", str(path), "-t", "[[1, 0], [0, 1]]")
    assert time.monotonic() - start < 10
    err = clean(proc, 2)
    assert f"line {(66 << 20) + 2}, column 2: 'x' is not a number" in err


def _header_only(path: Path, shape: tuple[int, ...]) -> str:
    """A .npy file of rows that hold no values: its 128-byte header is all of it."""
    from numpy.lib import format as npformat

    with open(path, "wb") as fh:
        npformat.write_array_header_1_0(fh, {"descr": "<f8", "fortran_order": False,
                                             "shape": shape})
    return str(path)


def test_absurdly_many_rows_of_nothing_are_refused(tmp_path: Path) -> None:
    """(2**62 - 1, 0) passed the size check, then numpy's reshape raised: a traceback."""
    path = _header_only(tmp_path / "z.npy", (2**62 - 1, 0))
    err = clean(run("bce", "-i", path, "-t", path), 2)
    assert err == f"bcecli: error: {path}: the .npy array has shape (4611686018427387903, 0)," \
                  f" 4611686018427387903 rows that hold no values; bcecli reads at most " \
                  f"4294967296 rows of no values\n"


@pytest.mark.skipif(not LINUX, reason="ru_maxrss in KiB")
@pytest.mark.parametrize("fmt", ["plain", "csv", "json"])
def test_rows_of_nothing_stream_in_bounded_memory(tmp_path: Path, fmt: str) -> None:
    """10**8 rows of shape (0,) were one block: 2.4 GB for -f csv (10**9: 23 GB), and
    JSON wrote each empty row by a call of its own (over 60 s)."""
    rows = 10**8 if fmt != "json" else 10**6
    path = _header_only(tmp_path / "z.npy", (rows, 0))
    status, peak, err = _peak_mb(["bce", "-i", path, "-t", path, "-f", fmt])
    assert status == 0, err
    assert peak < 150, f"peak RSS {peak:.0f} MB"
    proc = run("bce", "-i", path, "-t", path, "-f", fmt, "-r", "none")
    out = proc.stdout.decode()
    if fmt == "csv":
        assert out == "\n" * rows
    elif fmt == "json":
        got = json.loads(out)
        assert got["input_shape"] == [rows, 0] and got["elements"] == [[]] * rows
        assert got["row_means"] == [None] * rows
    else:
        assert out == "\n" * rows  # (plain with -r none: the CSV of the terms)


# ------------------------------------------------------------------ limits: threads, memory


def _patched(code: str, *args: str, env: dict[str, str] | None = None
             ) -> subprocess.CompletedProcess[bytes]:
    """bcecli's entry point run after ``code`` (which breaks something in the process)."""
    script = f"{code}\nimport sys\nfrom bcecli.__main__ import main\nmain()\n"
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          timeout=120, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def blocks(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """About 5 MB of CSV: several blocks, so that the pool starts threads."""
    tmp = tmp_path_factory.mktemp("blocks")
    rng = np.random.default_rng(4)
    np.savetxt(tmp / "x.csv", rng.normal(size=(100_000, 5)), delimiter=",", fmt="%.8f")
    np.savetxt(tmp / "t.csv", rng.random((100_000, 5)) < 0.5, delimiter=",", fmt="%d")
    return str(tmp / "x.csv"), str(tmp / "t.csv")


@pytest.mark.parametrize("can_start", [0, 1])
def test_threads_that_cannot_start_are_no_error(blocks: tuple[str, str],
                                                can_start: int) -> None:
    """At a thread limit (a tight ulimit -v: 8 MiB of stack each) threads could not start:
    a traceback and exit 1.  Now the work is done on the threads there are, or in the main
    thread, with the same result to the last bit."""
    x, t = blocks
    args = ("bce-logits", "-i", x, "-t", t, "-f", "plain")
    want = run(*args, env={"BCECLI_THREADS": "1"})
    clean(want, 0)
    breaks = ("import threading\nreal, started = threading.Thread.start, [0]\n"
              "def start(self):\n"
              f"    if started[0] >= {can_start}:\n"
              "        raise RuntimeError(\"can't start new thread\")\n"
              "    started[0] += 1\n    real(self)\n"
              "threading.Thread.start = start\n")
    proc = _patched(breaks, *args, env={"BCECLI_THREADS": "8"})
    assert clean(proc, 0) == ""
    assert proc.stdout == want.stdout


def test_out_of_memory_outside_a_run_is_one_line() -> None:
    """Running out of memory while importing or parsing the options (a tight ulimit -v
    does it) was a traceback and exit 1."""
    breaks = ("import typer\ndef no_memory(self, *a, **k):\n    raise MemoryError\n"
              "typer.Typer.__call__ = no_memory\n")
    proc = _patched(breaks, "bce", "-i", "1", "-t", "1")
    err = clean(proc, 2)
    assert err.startswith("bcecli: error: out of memory") and err.count("\n") == 1
    assert proc.stdout == b""


@pytest.mark.skipif(not LINUX, reason="RLIMIT_AS as Linux counts it")
def test_an_address_space_limit_too_small_to_start_is_said() -> None:
    """Under ulimit -v of 40-120 MiB numpy's import failed: a traceback, or OpenBLAS's own
    message and exit 1 ('Memory allocation still failed after 10 retries')."""
    for mib in (40, 90):
        def cap(mib: int = mib) -> None:
            resource.setrlimit(resource.RLIMIT_AS, (mib << 20, mib << 20))

        proc = run("bce", "-i", "[0.5]", "-t", "[1]", preexec_fn=cap)
        err = clean(proc, 2)
        assert err == (f"bcecli: error: the address-space limit (ulimit -v) is {mib} MiB; "
                       f"bcecli needs at least 128 MiB to start\n")


def test_an_unknown_option_is_escaped_in_the_message() -> None:
    """An option name built from data cannot drive the terminal through the error line."""
    proc = subprocess.run([*BCECLI, "bce", "--\x1b[2Jx"], capture_output=True)
    assert proc.returncode == 2 and proc.stdout == b""
    assert b"\x1b" not in proc.stderr
    assert proc.stderr == b"bcecli: error: no such option: --\\x1b[2Jx (see 'bcecli bce --help')\n"


@pytest.mark.skipif(not LINUX, reason="ru_maxrss in KiB")
def test_a_wide_row_is_written_in_bounded_memory(tmp_path: Path) -> None:
    """One row of 2M values: writing its terms as CSV or JSON (or its gradient) costs no
    more than a few MB beyond reading it (the text of a row is made a slice at a time)."""
    x, t = tmp_path / "x.csv", tmp_path / "t.csv"
    x.write_text(",".join(["0.25"] * 2_000_000) + "\n")
    t.write_text(",".join(["1"] * 2_000_000) + "\n")

    def peak(*args: str) -> int:
        proc = subprocess.Popen([*BCECLI, "bce", "-i", str(x), "-t", str(t), *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, proc.stderr.read() if proc.stderr \
            else b""
        return usage.ru_maxrss >> 10  # MiB

    base = peak("-f", "plain")
    for args in (["-f", "csv", "-r", "none"], ["-f", "json"]):
        assert peak(*args) <= base + 40, args
    # the gradient's arrays besides: ∂L/∂x and its terms, 8 bytes a value each (32 MB)
    assert peak("-f", "csv", "--grad") <= base + 40 + 2 * 16, "--grad"


def test_out_of_memory_names_what_held_the_most() -> None:
    """Running out of memory says what kept the data: the table of every row, the values
    --like keeps, or else the input's form."""
    from bcecli.app import Request, _no_memory
    from bcecli.losses import LOSSES

    loss = LOSSES["bce"]
    assert "--max-rows 0" in _no_memory(Request(loss, "x", "y", max_rows=0))
    assert "--like" in _no_memory(Request(loss, "x", "y", like="keras"))
    assert "streamed" in _no_memory(Request(loss, "x", "y"))


def test_ascii_output_escapes_text_from_the_input_never_rewrites_it(tmp_path: Path) -> None:
    """In ASCII, bcecli's symbols become words (σ → sigmoid), but a file name or a value
    from the input is escaped: 'σ−ℓ∂.csv' must not become another file's name."""
    bad = tmp_path / "σ−ℓ∂.csv"
    bad.write_text("1,x\n", encoding="utf-8")
    for extra, env in ((["--ascii"], {}), ([], {"PYTHONIOENCODING": "ascii"})):
        proc = run("bce-logits", "-i", str(bad), "-t", "[[1, 0]]", *extra,
                   env={**os.environ, **env})
        assert proc.returncode == 2
        err = proc.stderr.decode("ascii")
        assert "\\u03c3\\u2212\\u2113\\u2202.csv, line 1, column 2: 'x' is not a number" \
            in err, err
        assert "sigmoid" not in err


@pytest.mark.parametrize(("args", "status"), [
    (["bce-logits", "-i", "[1, 2]", "-t", "[1, 0]", "-f", "plain", "--expect", "3"], 1),
    (["bce-logits", "-i", "[1, 2]", "-t", "[1, x]"], 2),
    (["ce", "-i", "[[1, 2]]", "-t", "[-100]", "-f", "plain"], 0),  # (a warning)
    (["bce", "--no-such-option"], 2),
], ids=["expect", "input-error", "warning", "usage"])
def test_a_closed_stderr_pipe_keeps_the_exit_status(args: list[str], status: int) -> None:
    """`bcecli ... 2>&1 >out | true`: stderr's reader is gone; the status is still the
    run's, not 141 (SIGPIPE)."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([*BCECLI, *args], stdout=subprocess.DEVNULL, stderr=write,
                              timeout=120)
    finally:
        os.close(write)
    assert proc.returncode == status


def test_streaming_into_an_input_file_is_refused(tmp_path: Path) -> None:
    """`--stream >> p.csv` with p.csv an input read its own output without end."""
    p = tmp_path / "p.csv"
    p.write_text("0.5,0.25\n0.1,0.9\n")
    with open(p, "a") as out:
        proc = subprocess.run([*BCECLI, "bce", "-i", str(p), "-t", str(p), "-r", "none",
                               "-f", "csv", "--stream"], stdout=out, stderr=subprocess.PIPE,
                              timeout=60)
    assert proc.returncode == 2
    assert b"the output is the file --input reads" in proc.stderr
    assert p.read_text() == "0.5,0.25\n0.1,0.9\n"


@pytest.mark.skipif(not LINUX, reason="a pty")
def test_stdin_typed_at_a_terminal_says_so_and_ends_on_the_first_ctrl_d() -> None:
    master, slave = os.openpty()
    proc = subprocess.Popen([*BCECLI, "bce", "-i", "-", "-t", "[[1, 0]]", "-f", "plain"],
                            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    os.close(slave)
    try:
        time.sleep(1.0)  # (bcecli starts and waits at the terminal)
        os.write(master, b"0.9,0.2\n")
        time.sleep(0.2)
        os.write(master, b"\x04")  # one Ctrl-D at the start of a line: the end of the input
        out, err = proc.communicate(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert err == b"bcecli: reading --input from the terminal; end with Ctrl-D\n"
    assert float(out) == pytest.approx(-(np.log(0.9) + np.log(0.8)) / 2, rel=1e-15)


@pytest.mark.skipif(not LINUX, reason="a pty")
def test_a_piped_table_fits_the_terminal_the_pipeline_runs_in() -> None:
    """`bcecli ... | less`: stdout is a pipe, stderr the terminal: its width, not 130."""
    import fcntl
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, b"\x18\x00\x3c\x00\x00\x00\x00\x00")  # 24x60
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    try:
        proc = subprocess.run([*BCECLI, "ce", "-i", "[[" + ", ".join(map(str, range(12)))
                               + "]]", "-t", "[3]"], stdout=subprocess.PIPE, stderr=slave,
                              env=env, timeout=60)
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 0
    lines = proc.stdout.decode().splitlines()
    assert max(len(line) for line in lines) <= 60, lines
    assert "hidden in the middle" in proc.stdout.decode()
