"""PocketBase's datetime text format, ``2026-11-26 05:36:16.730Z``, and lenient parsing into it.

Dates are stored as this text on both SQLite and PostgreSQL: it sorts correctly as text, compares
the same way on both engines, and is exactly what the API sends, so reads need no conversion.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

FORMAT_LENGTH = len("2026-11-26 05:36:16.730Z")


def format_datetime(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def now() -> str:
    return format_datetime(datetime.now(UTC))


def parse_datetime(raw: object) -> str | None:
    """Normalize ``raw`` to the storage format; ``""`` for empty input, None when unparsable.

    Accepts ISO 8601 / RFC 3339 (``T`` or space, optional fraction, ``Z`` or an offset), plain dates,
    and Unix timestamps in seconds (numbers), as PocketBase's ``types.ParseDateTime`` does.
    """
    if raw is None or raw == "":
        return ""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        try:
            return format_datetime(datetime(1970, 1, 1) + timedelta(seconds=float(raw)))
        except (OverflowError, ValueError):
            return None
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text or len(text) > 64:
        return None if text else ""
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    if len(text) >= 11 and text[10] == " ":
        text = text[:10] + "T" + text[11:]
    # a space before the offset ("... 10:00:00 +02:00") is common in hand-written values
    text = text.replace(" +", "+").replace(" -", "-")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.year < 1:
        return None
    return format_datetime(parsed)
