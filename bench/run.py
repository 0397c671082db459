#!/usr/bin/env python3
"""Benchmark bcecli against the five-minute scripts people would otherwise write.

    python bench/run.py [--quick] [--huge] [--sizes small 10m] [--repeat N] [--out FILE]

Every command runs as its own process, interleaved round-robin after one untimed warm-up
round.  Wall time is ``time.perf_counter`` around spawn + ``os.wait4``; peak RSS is the
``ru_maxrss`` that ``os.wait4`` returns for that child (KiB on Linux).  The report is a
markdown table on stdout (``--out`` writes it to a file too); progress goes to stderr.
Exit status: 0 whatever the PASS/FAIL verdicts, 1 if a command itself failed, 2 on a
usage error.  bench/README.md explains each target.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = BENCH_DIR / ".data"
DEFAULT_SEED = 20240611
DATA_VERSION = 2  # bump whenever the generator changes, so cached files are rebuilt
COLS = 10
CHUNK_ROWS = 50_000
HUGE_VALUES = 100_000_000  # sizes from here on only get the flat-memory run

SMALL_X = [[-0.4089, -1.2471, 0.5907], [-0.4897, -0.8267, -0.7349], [0.5241, -0.1246, -0.4751]]
SMALL_Y = [[0, 1, 1], [0, 0, 1], [1, 0, 1]]

RSS_LIMIT_MB = 150.0
AGREE_RTOL = 1e-9
SMALL_VS_LOADTXT = 1.15
SMALL_VS_TORCH = 0.25
CSV_VS_PANDAS = 1.0
JSON_VS_PLAIN = 1.5
"""The default JSON (loss, counts, options, the samples' summary) against -f plain."""
NPY_VS_CSV = 0.5
SHORT_OUTPUT_LINES = 200
CAPTURE_LIMIT = 1 << 20  # bytes of a child's stdout/stderr kept for the report


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- data
#
# Generation runs in a child process (``run.py --generate-only``): on Linux a child's
# ru_maxrss can never be below its parent's peak RSS at the time of the spawn (the parent's
# memory is accounted at exec), so this harness keeps its own memory small and never even
# imports numpy.  Everything the harness needs about a data set is in its manifest.json.


@dataclass(frozen=True)
class Dataset:
    """Input/target files of one size and the loss computed while writing them."""

    tag: str
    rows: int
    cols: int
    x_csv: Path
    y_csv: Path
    x_npy: Path | None
    y_npy: Path | None
    mean: float
    total: float

    @property
    def values(self) -> int:
        return self.rows * self.cols

    @property
    def label(self) -> str:
        return self.tag.upper() if self.tag != "small" else "small"


def parse_size(token: str) -> tuple[str, int]:
    """``small`` -> the 3x3 example, else a count of values such as ``10m``, ``500k``, ``2000``."""
    token = token.strip().lower()
    if token == "small":
        return "small", 9
    match = re.fullmatch(r"(\d+)([km]?)", token)
    if match is None:
        raise argparse.ArgumentTypeError(f"size {token!r}: expected 'small' or e.g. 10m, 500k")
    values = int(match.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2)]
    if values < COLS or values % COLS:
        raise argparse.ArgumentTypeError(f"size {token!r}: need a positive multiple of {COLS}")
    return token, values


def read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_manifest(folder: Path, info: dict[str, Any], files: dict[str, Path]) -> None:
    info = {**info, "files": {name: p.name for name, p in files.items()},
            "sizes": {name: p.stat().st_size for name, p in files.items()}}
    (folder / "manifest.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def load_dataset(data_dir: Path, tag: str) -> Dataset:
    """The data set described by ``<data_dir>/<tag>/manifest.json``."""
    folder = data_dir / tag
    info = read_manifest(folder / "manifest.json")
    try:
        assert info is not None and info["version"] == DATA_VERSION
        files = {name: folder / file for name, file in info["files"].items()}
        return Dataset(tag, int(info["rows"]), int(info["cols"]), files["x_csv"],
                       files["y_csv"], files.get("x_npy"), files.get("y_npy"),
                       float(info["mean"]), float(info["total"]))
    except (AssertionError, KeyError, TypeError, ValueError):
        raise SystemExit(f"error: bad or missing {folder / 'manifest.json'}") from None


def bce_logits_terms(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Element-wise stable binary cross-entropy on logits, as in PyTorch."""
    import numpy as np

    terms: np.ndarray = np.maximum(x, 0.0) - x * y + np.log1p(np.exp(-np.abs(x)))
    return terms


def make_small(data_dir: Path) -> None:
    """The 3x3 tutorial example as two CSV files."""
    import numpy as np

    folder = data_dir / "small"
    folder.mkdir(parents=True, exist_ok=True)
    files = {"x_csv": folder / "small_x.csv", "y_csv": folder / "small_y.csv"}
    texts = {"x_csv": "".join(",".join(map(repr, row)) + "\n" for row in SMALL_X),
             "y_csv": "".join(",".join(map(str, row)) + "\n" for row in SMALL_Y)}
    for name, text in texts.items():
        if not files[name].exists() or files[name].read_text(encoding="ascii") != text:
            files[name].write_text(text, encoding="ascii")
    terms = bce_logits_terms(np.array(SMALL_X), np.array(SMALL_Y, dtype=np.float64))
    total = math.fsum(terms.ravel().tolist())
    write_manifest(folder, {"version": DATA_VERSION, "rows": 3, "cols": 3,
                            "mean": total / terms.size, "total": total}, files)


def zero_one_csv(y: np.ndarray) -> bytes:
    """Rows of 0/1 as CSV bytes, built with numpy rather than per-value formatting."""
    import numpy as np

    rows, cols = y.shape
    buf = np.full((rows, 2 * cols), ord(","), dtype=np.uint8)
    buf[:, 0::2] = np.where(y, ord("1"), ord("0"))
    buf[:, -1] = ord("\n")
    return buf.tobytes()


def write_npy_header(handle: IO[bytes], shape: tuple[int, int]) -> None:
    import numpy as np

    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(handle, header)


def make_large(data_dir: Path, tag: str, values: int, seed: int) -> None:
    """Seeded logits (``%.6f``) and 0/1 targets, written chunk by chunk and cached.

    Logits are whole multiples of 1e-6, so the ``.npy`` copy holds exactly the values a
    correct CSV parser reads back.  Targets are drawn with probability sigmoid(logit).
    Sizes of HUGE_VALUES and more get no ``.npy`` copy.
    """
    import numpy as np

    rows = values // COLS
    folder = data_dir / tag
    folder.mkdir(parents=True, exist_ok=True)
    files = {"x_csv": folder / "x.csv", "y_csv": folder / "y.csv"}
    if values < HUGE_VALUES:
        files |= {"x_npy": folder / "x.npy", "y_npy": folder / "y.npy"}
    wanted = {"version": DATA_VERSION, "seed": seed, "rows": rows, "cols": COLS,
              "chunk_rows": CHUNK_ROWS}
    manifest_path = folder / "manifest.json"
    cached = read_manifest(manifest_path)
    if cached is not None and all(cached.get(k) == v for k, v in wanted.items()):
        sizes = cached.get("sizes", {})
        if all(p.is_file() and p.stat().st_size == sizes.get(name) for name, p in files.items()):
            log(f"[data] {tag}: cached in {folder}")
            return

    log(f"[data] {tag}: writing {rows:,} x {COLS} values to {folder} ...")
    started = time.perf_counter()
    manifest_path.unlink(missing_ok=True)
    parts = {name: p.with_name(p.name + ".part") for name, p in files.items()}
    rng = np.random.default_rng(seed)
    row_format = ",".join(["%.6f"] * COLS) + "\n"
    chunk_sums: list[float] = []
    with ExitStack() as stack:
        out = {name: stack.enter_context(open(p, "wb")) for name, p in parts.items()}
        for name in ("x_npy", "y_npy"):
            if name in out:
                write_npy_header(out[name], (rows, COLS))
        reported = 0
        for start in range(0, rows, CHUNK_ROWS):
            n = min(CHUNK_ROWS, rows - start)
            micro = np.rint(rng.standard_normal((n, COLS)) * 1e6) + 0.0  # + 0.0: no "-0"
            x = micro / 1e6
            y = rng.random((n, COLS)) < 1.0 / (1.0 + np.exp(-x))
            yf = y.astype(np.float64)
            out["x_csv"].write(((row_format * n) % tuple(x.ravel().tolist())).encode("ascii"))
            out["y_csv"].write(zero_one_csv(y))
            if "x_npy" in out:
                out["x_npy"].write(x.tobytes())
                out["y_npy"].write(yf.tobytes())
            chunk_sums.append(float(bce_logits_terms(x, yf).sum()))
            if (percent := 100 * (start + n) // rows) >= reported + 10:
                log(f"[data] {tag}: {percent}%")
                reported = percent
    for name, part in parts.items():
        part.replace(files[name])
    total = math.fsum(chunk_sums)
    write_manifest(folder, {**wanted, "mean": total / values, "total": total}, files)
    sizes = ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in files.values())
    log(f"[data] {tag}: done in {time.perf_counter() - started:.1f} s ({sizes})")


def generate(data_dir: Path, sizes: Sequence[tuple[str, int]], seed: int) -> None:
    for tag, values in sizes:
        if tag == "small":
            make_small(data_dir)
        else:
            make_large(data_dir, tag, values, seed)


# --------------------------------------------------------------------------- running


@dataclass
class Run:
    """One finished child process."""

    wall: float
    maxrss_kib: int
    returncode: int
    stdout: str
    stdout_bytes: int
    stdout_lines: int
    stderr: str
    floor_kib: int = 0

    @property
    def rss_mb(self) -> float:
        return self.maxrss_kib * 1024 / 1e6


@dataclass
class Case:
    """A command line measured several times."""

    label: str
    argv: list[str]
    devnull: bool = False
    env: dict[str, str] = field(default_factory=dict)
    """Variables set for this case only (e.g. BCECLI_THREADS)."""
    runs: list[Run] = field(default_factory=list)
    all_runs: list[Run] = field(default_factory=list)
    failure: Run | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(r.wall for r in self.runs) if self.runs else None

    @property
    def minimum(self) -> float | None:
        return min(r.wall for r in self.runs) if self.runs else None

    @property
    def peak_rss_mb(self) -> float | None:
        """Over the timed runs: a warm-up may compile bytecode, which costs memory too."""
        runs = self.runs or self.all_runs
        return max(r.rss_mb for r in runs) if runs else None


def read_capped(handle: IO[bytes]) -> tuple[str, int, int]:
    """Text (first CAPTURE_LIMIT bytes), total byte count and line count of a temp file."""
    handle.seek(0)
    size = lines = 0
    head = last = b""
    while block := handle.read(1 << 20):
        if size < CAPTURE_LIMIT:
            head += block[: CAPTURE_LIMIT - size]
        size += len(block)
        lines += block.count(b"\n")
        last = block[-1:]
    if last not in (b"", b"\n"):
        lines += 1  # an unterminated last line
    return head.decode("utf-8", errors="replace"), size, lines


def own_peak_rss_kib() -> int:
    """Reset this process's peak RSS to its current RSS (Linux), then return it in KiB.

    A child's ru_maxrss includes the parent's peak RSS at the time of the spawn, so this
    is the floor under every figure measured next.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_env(data_dir: Path) -> dict[str, str]:
    """The environment of measured commands: the caller's, with bytecode caching on.

    ``PYTHONDONTWRITEBYTECODE`` (set in some sandboxes and CI images) would make an editable
    bcecli recompile its own modules on every run while numpy & co. use the ``.pyc`` files
    pip wrote, so it is dropped; the cache goes to a private ``PYTHONPYCACHEPREFIX`` under
    the data directory, which keeps ``__pycache__`` out of the source tree.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(data_dir.resolve() / "pycache"))
    return env


def run_once(argv: Sequence[str], *, devnull: bool = False,
             env: dict[str, str] | None = None) -> Run:
    """Spawn ``argv``, wait for it with ``os.wait4`` and return its wall time and rusage."""
    floor = own_peak_rss_kib()
    with ExitStack() as stack:
        err = stack.enter_context(tempfile.TemporaryFile())
        if devnull:
            out: IO[bytes] = stack.enter_context(open(os.devnull, "wb"))
        else:
            out = stack.enter_context(tempfile.TemporaryFile())
        started = time.perf_counter()
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                    env=env)
        except OSError as exc:
            return Run(time.perf_counter() - started, 0, 127, "", 0, 0, f"cannot start: {exc}",
                       floor)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, tell Popen
        text, size, lines = ("", 0, 0) if devnull else read_capped(out)
        stderr = read_capped(err)[0]
        return Run(wall, usage.ru_maxrss, proc.returncode, text, size, lines, stderr, floor)


@dataclass
class Bench:
    """What every target needs: the command under test, rounds, environment, results."""

    bcecli: list[str]
    repeat: int
    env: dict[str, str]
    cases: list[Case] = field(default_factory=list)

    def argv(self, x: Path, y: Path, *extra: str) -> list[str]:
        return [*self.bcecli, "bce-logits", "-i", str(x), "-t", str(y), *extra]

    def run(self, cases: Sequence[Case], *, once: bool = False) -> None:
        """Round-robin (A, B, C, A, B, C, ...) after a warm-up round, or each case once."""
        run_cases(cases, 1 if once else self.repeat, warmup=not once, env=self.env)
        self.cases += cases


def run_cases(cases: Sequence[Case], repeat: int, *, warmup: bool = True,
              env: dict[str, str] | None = None) -> None:
    """Run the cases round-robin (A, B, C, A, B, C, ...); a failing case drops out."""
    rounds = ([0] if warmup else []) + list(range(1, repeat + 1))
    for number in rounds:
        for case in cases:
            if case.failure is not None:
                continue
            run = run_once(case.argv, devnull=case.devnull,
                           env={**(env or os.environ), **case.env} if case.env else env)
            name = "warm-up" if number == 0 else f"{number}/{repeat}"
            log(f"[run] {name:>7}  {case.label:<34} {run.wall:8.3f} s {run.rss_mb:8.1f} MB"
                + ("" if run.returncode == 0 else f"  exit {run.returncode}"))
            case.all_runs.append(run)
            if run.returncode != 0:
                case.failure = run
            elif number > 0:
                case.runs.append(run)


# --------------------------------------------------------------------------- report


@dataclass
class Row:
    case: str
    median: float | None = None
    minimum: float | None = None
    rss_mb: float | None = None
    check: str = ""
    target: str = ""
    result: str = ""


def case_row(case: Case, check: str = "", target: str = "", ok: bool | None = None) -> Row:
    """A row with the case's timings; ``ok`` None leaves the verdict empty."""
    if case.failure is not None:
        return Row(case.label, check=f"exit {case.failure.returncode}", target=target,
                   result="ERROR")
    result = "" if ok is None else ("PASS" if ok else "FAIL")
    return Row(case.label, case.median, case.minimum, case.peak_rss_mb, check, target, result)


def skipped_row(label: str, reason: str, target: str = "") -> Row:
    log(f"skipped: {reason} ({label})")
    return Row(label, check=f"skipped: {reason}", target=target, result="SKIP")


def ratio_row(case: Case, ours: Case, name: str, limit: float | None) -> Row:
    """Row for a baseline, judged on median(ours) / median(baseline) <= limit."""
    target = "info" if limit is None else f"≤ {limit:.2f}"
    if case.failure is not None or ours.median is None or case.median is None:
        return case_row(case, target=target)
    ratio = ours.median / case.median
    ok = None if limit is None else ratio <= limit
    return case_row(case, f"wall {name} = {ratio:.2f}", target, ok)


def rss_row(case: Case) -> Row:
    rss = case.peak_rss_mb
    ok = None if rss is None else rss <= RSS_LIMIT_MB
    return case_row(case, "peak RSS", f"≤ {RSS_LIMIT_MB:.0f} MB", ok)


def agree_row(label: str, cases: Sequence[Case], reference: float, what: str = "mean") -> Row:
    """Do all printed values (every timed run) agree with the reference within AGREE_RTOL?"""
    target = f"rel ≤ {AGREE_RTOL:g}"
    worst = 0.0
    counted = 0
    for case in cases:
        for run in case.runs:
            try:
                value = float(run.stdout.strip())
            except ValueError:
                shown = run.stdout.strip()[:40]
                return Row(label, check=f"{case.label}: not a number: {shown!r}", target=target,
                           result="FAIL")
            counted += 1
            worst = max(worst, abs(value - reference) / max(abs(reference), 1e-300))
    if counted == 0:
        return Row(label, check="no output to compare", target=target, result="SKIP")
    runs = "1 run" if counted == 1 else f"{counted} runs"
    check = f"{runs}: max rel diff {worst:.1e} vs ref {what} {reference:.12g}"
    return Row(label, check=check, target=target, result="PASS" if worst <= AGREE_RTOL else "FAIL")


def fmt(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def markdown_table(rows: Sequence[Row]) -> str:
    header = ["case", "median s", "min s", "peak RSS MB", "check", "target", "result"]
    body = [[r.case, fmt(r.median, 3), fmt(r.minimum, 3), fmt(r.rss_mb, 1), r.check or "—",
             r.target or "—", r.result or "—"] for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    numeric = {1, 2, 3}

    def line(cells: Sequence[str]) -> str:
        padded = [c.rjust(w) if i in numeric else c.ljust(w)
                  for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if i in numeric else "-" * (w + 2)
                          for i, w in enumerate(widths)) + "|"
    return "\n".join([line(header), rule, *(line(b) for b in body)])


def cpu_model() -> str:
    try:
        for text in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            key, _, value = text.partition(":")
            if key.strip() in ("model name", "Model", "cpu model"):
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> str:
    try:
        for text in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if text.startswith("MemTotal:"):
                return f"{int(text.split()[1]) / 1024**2:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return "RAM unknown"


def cpu_seconds() -> tuple[float, float] | None:
    """(CPU-seconds the whole machine has been busy, CPU-seconds of this process and its
    reaped children); the difference over a run is what other processes took."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()
        ticks = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
    except (OSError, ValueError):
        return None
    busy = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    own = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return busy, sum(r.ru_utime + r.ru_stime for r in own)


def interference(before: tuple[float, float] | None, wall: float) -> str:
    """A report line on how much CPU other processes (or the hypervisor) took meanwhile."""
    after = cpu_seconds()
    if before is None or after is None or wall <= 0:
        return "- other processes: unknown (no /proc/stat)"
    others = max(0.0, (after[0] - before[0]) - (after[1] - before[1]))
    share = others / (wall * (os.cpu_count() or 1))
    line = (f"- other processes: {others:.0f} CPU-s while this ran, {share:.0%} of the "
            "machine")
    if share > 0.05:
        line += " — **timings are unreliable, rerun on an idle machine**"
        log(f"warning: other processes took {share:.0%} of the CPU during the benchmark")
    return line


def version_of(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_lines(bcecli: Sequence[str], bcecli_version: str) -> list[str]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    libs = [f"Python {platform.python_version()}"]
    libs += [f"{d} {v}" for d in ("numpy", "pandas", "torch", "typer", "rich")
             if (v := version_of(d))]
    lines = [
        f"- machine: nproc {usable or os.cpu_count()} (cpu_count {os.cpu_count()}), "
        f"{cpu_model()}, {memory_gib()}, {platform.system()} {platform.release()} "
        f"{platform.machine()}",
        "- " + ", ".join(libs),
        f"- bcecli: `{shlex.join(bcecli)}` ({bcecli_version})",
        f"- python for baselines: `{sys.executable}`",
    ]
    env = [f"{k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS",
                                            "OMP_NUM_THREADS", "MKL_NUM_THREADS")
           if k in os.environ]
    if env:
        lines.append("- environment: " + ", ".join(f"`{e}`" for e in env))
    return lines


def shown_path(word: str) -> str:
    """``word`` relative to the current directory when it is a path below it."""
    path, cwd = Path(word), Path.cwd()
    return str(path.relative_to(cwd)) if path.is_absolute() and path.is_relative_to(cwd) else word


def shown_argv(argv: Sequence[str], bcecli: Sequence[str]) -> str:
    """The command as a reader would type it: short names, paths relative to the cwd."""
    words: list[str] = []
    rest = list(argv)
    if rest[: len(bcecli)] == list(bcecli):
        words.append("bcecli")
        rest = rest[len(bcecli):]
    elif rest and rest[0] == sys.executable:
        words.append("python")
        rest = rest[1:]
    return shlex.join(words + [shown_path(word) for word in rest])


# --------------------------------------------------------------------------- targets


def baseline_argv(script: str, x: Path, y: Path) -> list[str]:
    return [sys.executable, str(BENCH_DIR / script), "-i", str(x), "-t", str(y)]


def missing(*modules: str) -> str | None:
    """``"pandas not installed"`` for the first module that cannot be imported, else None."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            return f"{module} not installed"
    return None


def target_small(data: Dataset, bench: Bench) -> list[Row]:
    """Target 1: start-up cost on the 3x3 example against loadtxt and torch scripts."""
    pre = "T1 small:"
    ours = Case(f"{pre} bcecli", bench.argv(data.x_csv, data.y_csv, "-f", "plain"))
    loadtxt = Case(f"{pre} loadtxt baseline", baseline_argv("baseline_loadtxt.py",
                                                            data.x_csv, data.y_csv))
    torch = Case(f"{pre} torch baseline", baseline_argv("baseline_torch.py",
                                                        data.x_csv, data.y_csv))
    no_loadtxt, no_torch = missing("typer"), missing("typer", "torch")
    group = [ours] + ([loadtxt] if not no_loadtxt else []) + ([torch] if not no_torch else [])
    bench.run(group)
    rows = [case_row(ours)]
    rows.append(skipped_row(loadtxt.label, no_loadtxt, f"≤ {SMALL_VS_LOADTXT:.2f}")
                if no_loadtxt else ratio_row(loadtxt, ours, "bcecli/loadtxt", SMALL_VS_LOADTXT))
    rows.append(skipped_row(torch.label, no_torch, f"≤ {SMALL_VS_TORCH:.2f}")
                if no_torch else ratio_row(torch, ours, "bcecli/torch", SMALL_VS_TORCH))
    rows.append(agree_row(f"{pre} values agree", group, data.mean))
    return rows


def target_large(data: Dataset, bench: Bench) -> list[Row]:
    """Targets 2 and 3 (timed, interleaved) and target 4 (each smoke command once)."""
    assert data.x_npy is not None and data.y_npy is not None
    csv, npy = f"T2 {data.label} CSV:", f"T3 {data.label} npy:"
    ours_csv = Case(f"{csv} bcecli", bench.argv(data.x_csv, data.y_csv, "-f", "plain"))
    pandas = Case(f"{csv} pandas baseline",
                  baseline_argv("baseline_pandas.py", data.x_csv, data.y_csv))
    torch = Case(f"{csv} torch+pandas baseline",
                 baseline_argv("baseline_torch_pandas.py", data.x_csv, data.y_csv))
    ours_npy = Case(f"{npy} bcecli", bench.argv(data.x_npy, data.y_npy, "-f", "plain"))
    threads = [Case(f"{csv} bcecli, {n} thread{'s' * (n > 1)}",
                    bench.argv(data.x_csv, data.y_csv, "-f", "plain"),
                    env={"BCECLI_THREADS": str(n)}) for n in (1, 2)]
    as_json = Case(f"{csv} bcecli -f json", bench.argv(data.x_csv, data.y_csv, "-f", "json"))
    worst = Case(f"{csv} bcecli -f json --top 10",
                 bench.argv(data.x_csv, data.y_csv, "-f", "json", "--top", "10"))
    no_pandas, no_torch = missing("typer", "pandas"), missing("typer", "pandas", "torch")
    group = [ours_csv] + ([pandas] if not no_pandas else [])
    group += ([torch] if not no_torch else []) + [ours_npy, *threads, as_json, worst]
    bench.run(group)

    rows = [rss_row(ours_csv)]
    one = threads[0]
    for case in threads:
        if case is one or case.median is None or not one.median:
            rows.append(case_row(case, "BCECLI_THREADS=1", "info"))
        else:
            rows.append(case_row(case, f"wall / 1 thread = {case.median / one.median:.2f}",
                                 "info"))
    limit = f"≤ {CSV_VS_PANDAS:.2f}"
    rows.append(skipped_row(pandas.label, no_pandas, limit) if no_pandas
                else ratio_row(pandas, ours_csv, "bcecli/pandas", CSV_VS_PANDAS))
    rows.append(skipped_row(torch.label, no_torch, "info") if no_torch
                else ratio_row(torch, ours_csv, "bcecli/torch+pandas", None))
    rows += [_json_row(case, ours_csv) for case in (as_json, worst)]
    rows.append(agree_row(f"{csv} values agree", [c for c in group if c is not ours_npy
                                                  and c not in (as_json, worst)],
                          data.mean))
    if ours_npy.failure is None and ours_npy.median is not None and ours_csv.median:
        ratio = ours_npy.median / ours_csv.median
        rss = ours_npy.peak_rss_mb or 0.0
        ok = ratio <= NPY_VS_CSV and rss <= RSS_LIMIT_MB
        rows.append(case_row(ours_npy, f"wall npy/CSV = {ratio:.2f}; peak RSS",
                             f"≤ {NPY_VS_CSV:.2f}; ≤ {RSS_LIMIT_MB:.0f} MB", ok))
    else:
        rows.append(case_row(ours_npy, target=f"≤ {NPY_VS_CSV:.2f}; ≤ {RSS_LIMIT_MB:.0f} MB"))
    rows.append(agree_row(f"{npy} values agree", [ours_npy], data.mean))

    smoke: list[tuple[Case, str]] = []
    for kind, x, y in (("CSV", data.x_csv, data.y_csv), ("npy", data.x_npy, data.y_npy)):
        pre = f"T4 {data.label} {kind}:"
        smoke += [
            (Case(f"{pre} none → csv", bench.argv(x, y, "-r", "none", "-f", "csv"),
                  devnull=True), "devnull"),
            (Case(f"{pre} none → json", bench.argv(x, y, "-r", "none", "-f", "json"),
                  devnull=True), "devnull"),
            (Case(f"{pre} table", bench.argv(x, y, "-f", "table")), "short"),
            (Case(f"{pre} none → table", bench.argv(x, y, "-r", "none", "-f", "table")),
             "short"),
            (Case(f"{pre} sum", bench.argv(x, y, "-r", "sum", "-f", "plain")), "sum"),
        ]
    bench.run([case for case, _ in smoke], once=True)
    for case, kind in smoke:
        # Only exit status and table length are judged; a high RSS is pointed out.
        over = (case.peak_rss_mb or 0.0) > RSS_LIMIT_MB
        note = f"; RSS > {RSS_LIMIT_MB:.0f} MB (not judged)" if over else ""
        if kind == "devnull":
            rows.append(case_row(case, f"exit 0, stdout → /dev/null{note}", "exit 0", True))
        elif kind == "short":
            run = case.runs[0] if case.runs else None
            lines = run.stdout_lines if run else 0
            check = f"exit 0, {lines} lines, {run.stdout_bytes / 1e3:.1f} kB" if run else ""
            rows.append(case_row(case, check + note, f"exit 0, ≤ {SHORT_OUTPUT_LINES} lines",
                                 lines <= SHORT_OUTPUT_LINES))
        else:
            rows.append(case_row(case, "exit 0" + note, "exit 0", True))
            rows.append(agree_row(f"{case.label} value", [case], data.total, "sum"))
    return rows


def _json_row(case: Case, plain: Case) -> Row:
    """The default JSON's wall time against -f plain's, measured side by side."""
    if case.median is None or not plain.median:
        return case_row(case, target=f"≤ {JSON_VS_PLAIN:.2f}")
    ratio = case.median / plain.median
    return case_row(case, f"wall json/plain = {ratio:.2f}", f"≤ {JSON_VS_PLAIN:.2f}",
                    ratio <= JSON_VS_PLAIN)


def target_huge(data: Dataset, bench: Bench) -> list[Row]:
    """Flat memory on a CSV ten times the main one: one run each of -f plain, the table
    (with the samples' summary) and the 10 worst samples; peak RSS and value."""
    ours = Case(f"T5 {data.label} CSV: bcecli",
                bench.argv(data.x_csv, data.y_csv, "-f", "plain"))
    table = Case(f"T5 {data.label} CSV: table and summary",
                 bench.argv(data.x_csv, data.y_csv, "-f", "table"))
    worst = Case(f"T5 {data.label} CSV: --top 10 -f csv",
                 bench.argv(data.x_csv, data.y_csv, "--top", "10", "-f", "csv"))
    bench.run([ours, table, worst], once=True)
    return [rss_row(ours), rss_row(table), rss_row(worst),
            agree_row(f"T5 {data.label} CSV: value agrees", [ours], data.mean)]


# --------------------------------------------------------------------------- main


def find_bcecli() -> list[str] | None:
    """The ``bcecli`` script next to this interpreter (same venv), else the one on PATH."""
    local = Path(sys.executable).parent / "bcecli"
    if local.is_file() and os.access(local, os.X_OK):
        return [str(local)]
    found = shutil.which("bcecli")
    return [found] if found else None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark bcecli against numpy/pandas/PyTorch scripts "
        "(see bench/README.md).")
    parser.add_argument("--quick", action="store_true",
                        help="3 timed rounds instead of 5 (unless --repeat is given)")
    parser.add_argument("--sizes", nargs="+", type=parse_size, metavar="SIZE",
                        default=[parse_size("small"), parse_size("10m")],
                        help="data sets: 'small' (3x3 example) and/or a count of values "
                        "such as 10m, 1m, 500k (default: small 10m)")
    parser.add_argument("--huge", action="store_true",
                        help="also run the 100M-value CSV (about 1.2 GB on disk) for flat memory")
    parser.add_argument("--repeat", type=int, metavar="N",
                        help="timed rounds per case (default 5, 3 with --quick)")
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="also write the report as markdown to FILE")
    parser.add_argument("--bcecli", metavar="CMD",
                        help="command to benchmark, e.g. \"python -m bcecli\" "
                        "(default: bcecli next to this python, else on PATH)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, metavar="DIR",
                        help=f"where generated data is cached (default: {DEFAULT_DATA_DIR})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="data generator seed")
    parser.add_argument("--generate-only", action="store_true",
                        help="write (or check) the cached data for --sizes and exit")
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    args.repeat = args.repeat or (3 if args.quick else 5)
    if args.huge and all(values != HUGE_VALUES for _, values in args.sizes):
        args.sizes.append(parse_size("100m"))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.generate_only:
        generate(args.data_dir, list(dict(args.sizes).items()), args.seed)
        return 0
    bcecli = shlex.split(args.bcecli) if args.bcecli else find_bcecli()
    if not bcecli:
        log("error: no bcecli executable next to python or on PATH; "
            "run `pip install -e .` or pass --bcecli \"python -m bcecli\"")
        return 2
    version_run = run_once([*bcecli, "--version"])
    bcecli_version = (version_run.stdout.strip() if version_run.returncode == 0
                      else f"--version failed: exit {version_run.returncode}")

    started = time.perf_counter()
    cpu_before = cpu_seconds()
    tags = list(dict(args.sizes))
    generator = [sys.executable, str(Path(__file__).resolve()), "--generate-only",
                 "--data-dir", str(args.data_dir), "--seed", str(args.seed), "--sizes", *tags]
    if subprocess.run(generator, stdin=subprocess.DEVNULL, check=False).returncode != 0:
        log("error: data generation failed")
        return 1
    datasets = [load_dataset(args.data_dir, tag) for tag in tags]

    rows: list[Row] = []
    bench = Bench(bcecli, args.repeat, child_env(args.data_dir))
    for data in datasets:
        if data.tag == "small":
            rows += target_small(data, bench)
        elif data.values < HUGE_VALUES:
            rows += target_large(data, bench)
        else:
            rows += target_huge(data, bench)

    verdicts = [r.result for r in rows]
    summary = ", ".join(f"{verdicts.count(v)} {v}" for v in ("PASS", "FAIL", "SKIP", "ERROR")
                        if v in verdicts)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rounds = f"{args.repeat} timed round{'s' if args.repeat > 1 else ''}"
    floor_mb = max((r.floor_kib for c in bench.cases for r in c.all_runs), default=0) * 1024 / 1e6
    report = "\n".join([
        f"## bcecli benchmark ({stamp})",
        "",
        *machine_lines(bcecli, bcecli_version),
        f"- method: {rounds}, round-robin after 1 warm-up round (T4/T5: one run each); "
        "wall = perf_counter around spawn + os.wait4; peak RSS = the child's ru_maxrss, "
        f"MB = 10^6 bytes (floor: the harness's own RSS at spawn, at most {floor_mb:.1f} MB, "
        "is counted in every child's figure); bytecode caching on for the children "
        f"(PYTHONPYCACHEPREFIX={shown_path(bench.env['PYTHONPYCACHEPREFIX'])})",
        interference(cpu_before, time.perf_counter() - started),
        "",
        markdown_table(rows),
        "",
        f"{summary} — total {time.perf_counter() - started:.0f} s",
        "",
        "Commands:",
        "",
        *(f"- {c.label}: `{shown_argv(c.argv, bcecli)}`"
          + (" > /dev/null" if c.devnull else "") for c in bench.cases),
        "",
    ])
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")
        log(f"wrote {args.out}")

    failed = [c for c in bench.cases if c.failure is not None]
    for case in failed:
        assert case.failure is not None
        log(f"\nFAILED: {case.label} (exit {case.failure.returncode})\n"
            f"$ {shlex.join(case.argv)}\n{case.failure.stderr.rstrip()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
