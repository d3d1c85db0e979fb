"""Path and query parameters shared by the routes, validated at the edge.

Ids are opaque strings; the only thing refused outright is a NUL character, which no
id can hold (PostgreSQL text cannot store it), so such a request is a 400, not a 500.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path, Query

NO_NUL = r"^[^\x00]*$"
SOME_NO_NUL = r"^[^\x00]+$"
MAX_ID_LENGTH = 200

SiteIdQuery = Annotated[str, Query(min_length=1, max_length=MAX_ID_LENGTH, pattern=SOME_NO_NUL,
                                   description="The site's id")]
RunIdQuery = Annotated[str, Query(min_length=1, max_length=MAX_ID_LENGTH, pattern=SOME_NO_NUL,
                                  description="The run's id")]
SiteIdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=SOME_NO_NUL,
                                 description="The site's id")]
RunIdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=SOME_NO_NUL,
                                description="The run's id")]
AccountIdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=SOME_NO_NUL,
                                    description="The account's id")]
ImageIdPath = Annotated[str, Path(min_length=1, max_length=MAX_ID_LENGTH, pattern=SOME_NO_NUL,
                                  description="The image's id")]

MAX_OFFSET = 1_000_000_000
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many items to skip")]
ListingLimit = Annotated[int, Query(ge=1, le=500, description="At most this many items")]
HistoryLimit = Annotated[int, Query(ge=1, le=200, description="At most this many runs")]
LogLines = Annotated[int, Query(ge=1, le=10_000, description="How many of the last log lines")]
AsOf = Annotated[datetime | None, Query(
    description="ISO 8601 time: answer with the run as it stood at that moment (404 if it had not started)",
)]
EventsLimit = Annotated[int, Query(ge=1, le=1000, description="At most this many events")]
AfterSequence = Annotated[int, Query(ge=0, le=2_147_483_647, description="Only events after this sequence")]
