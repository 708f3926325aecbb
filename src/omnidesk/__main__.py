"""`python -m omnidesk` is the omnidesk command."""

from omnidesk.cli import app

app()
