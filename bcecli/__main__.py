"""``python -m bcecli``."""

from bcecli.cli import main

main()
