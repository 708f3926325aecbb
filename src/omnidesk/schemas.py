"""Shared pieces of the API shapes."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints


class ReadModel(BaseModel):
    """An API shape read from a table row."""

    model_config = ConfigDict(from_attributes=True)


class WriteModel(BaseModel):
    """An API input shape: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _known_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r} (use an IANA name like Europe/Paris)") \
            from error
    return name


TimeZoneName = Annotated[str, AfterValidator(_known_time_zone)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
