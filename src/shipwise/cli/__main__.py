"""``python -m shipwise.cli``: the ``shipwise`` command."""

from shipwise.cli import main

main()
