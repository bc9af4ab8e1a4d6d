"""Time on the wire: integer seconds since the epoch in JWT claims, RFC 3339 UTC strings
(``YYYY-MM-DDTHH:MM:SSZ``) in JSON documents, and one clock-skew rule for both."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from ._errors import AIPError

__all__ = ["DEFAULT_SKEW", "MAX_SKEW", "check_skew", "format_time", "now", "parse_time"]

DEFAULT_SKEW = 60  # seconds (AIP-TIME-002)
MAX_SKEW = 300  # seconds (AIP-TIME-003)

_RFC3339_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def now() -> int:
    return int(time.time())


def check_skew(skew: int) -> int:
    if not isinstance(skew, int) or isinstance(skew, bool) or not 0 <= skew <= MAX_SKEW:
        raise ValueError(f"clock skew must be an integer 0..{MAX_SKEW} seconds")
    return skew


def parse_time(text: object, *, code: str, what: str) -> int:
    """Parse ``YYYY-MM-DDTHH:MM:SSZ`` to epoch seconds."""
    if not isinstance(text, str) or _RFC3339_Z.fullmatch(text) is None:
        raise AIPError(code, f"{what} is not an RFC 3339 UTC time 'YYYY-MM-DDTHH:MM:SSZ'")
    try:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise AIPError(code, f"{what} is not a real calendar time") from None
    return int(moment.timestamp())


def format_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
