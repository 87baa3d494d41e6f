"""API shapes of background jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema


class BackgroundJobOut(Schema):
    id: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    user: str | None
    progress_done: int
    progress_total: int | None
    percent: int | None
    result: dict[str, Any]
    error: str
    attempts: int
    ref: int | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    finished_at: dt.datetime | None


class BackgroundJobList(Schema):
    count: int
    items: list[BackgroundJobOut]
