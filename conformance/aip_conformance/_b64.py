"""The suite's own strict base64url decoding (independent of ``aip``'s)."""

from __future__ import annotations

import base64
import binascii

__all__ = ["b64url_or_none"]


def b64url_or_none(text: object) -> bytes | None:
    """Unpadded, canonical base64url to bytes; ``None`` for anything else."""
    if not isinstance(text, str) or any(c in text for c in "=+/ \n"):
        return None
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if base64.urlsafe_b64encode(data).rstrip(b"=").decode() == text else None
