"""The integers MongoDB can store: BSON int64. A payload number outside it is refused where it
is parsed, with a typed error naming the field, never later as an untyped ``OverflowError``
from the BSON encoder."""

from __future__ import annotations

import math

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def fits(value: int | float) -> bool:
    """A finite number whose integer part BSON can hold."""
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return INT64_MIN <= int(value) <= INT64_MAX
