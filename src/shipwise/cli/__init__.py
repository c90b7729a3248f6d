"""The ``shipwise`` command."""

from shipwise.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
