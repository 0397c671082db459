"""Shared fixtures: run the CLI in-process and write input files under ``tmp_path``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bcecli.cli import app


@pytest.fixture
def cli() -> Callable[..., Result]:
    """``cli("bce", "-i", x, "-t", y, input=None)``: the result (exit code, stdout, stderr)."""
    runner = CliRunner()

    def invoke(*args: str, input: str | bytes | None = None) -> Result:
        return runner.invoke(app, [str(a) for a in args], input=input)

    return invoke


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], str]:
    """``write("x.csv", "1,2\\n")``: the path of a new file under ``tmp_path``."""

    def make(name: str, data: str | bytes) -> str:
        path = tmp_path / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return str(path)

    return make


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-snapshots", action="store_true", default=False,
                     help="rewrite tests/snapshots/ from what bcecli prints now")


@pytest.fixture
def update_snapshots(request: pytest.FixtureRequest) -> bool:
    """True under ``pytest --update-snapshots``: snapshot tests write instead of compare."""
    return bool(request.config.getoption("--update-snapshots"))
