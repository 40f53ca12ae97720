"""The records service: ``RecordReader`` (list, view, presentation) and ``RecordWriter`` (create,
update, delete and their transactions) behind the one object the API, auth flows and CLI use.
"""

from __future__ import annotations

from .reader import MAX_ID_LENGTH, MISSING_COLLECTION, RecordReader, plausible_id
from .writer import AUTH_LEFTOVERS, RecordWriter

__all__ = [
    "AUTH_LEFTOVERS",
    "MAX_ID_LENGTH",
    "MISSING_COLLECTION",
    "RecordReader",
    "RecordService",
    "RecordWriter",
    "plausible_id",
]


class RecordService(RecordWriter):
    """Reads and writes records (``RecordWriter`` extends ``RecordReader``)."""
