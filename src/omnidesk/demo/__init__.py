"""The demo tenant a newcomer sees with `omnidesk serve --demo`."""

from pathlib import Path

DEMO_CENTER = Path(__file__).parent / "center.yaml"
DEMO_PASSWORD = "omnidesk-demo"  # noqa: S105 - the documented demo password
