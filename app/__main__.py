"""``python -m app``: the ``emmettbase`` command line, for when the script is not on PATH."""

from .cli import main

main(prog_name="emmettbase")
