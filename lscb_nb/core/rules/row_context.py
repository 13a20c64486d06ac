"""What the rules over single rows of a return check it against, and the columns they read.

The checks read the columns :func:`lscb_nb.pilot.checks.prepare_rows` derives from a
return's raw text: the period, the authority, the item's unit and valid range, and each
figure parsed into a value, a state and the cell rule
:func:`lscb_nb.core.values.parse_values` attached. The rules are in ``identity_rules``
(R codes) and ``figure_rules`` (V codes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pandas as pd

log = logging.getLogger(__name__)

# Counts above this are implausible for one borough's quarter (England's largest
# authority has about 330,000 children) unless the item's valid range says otherwise.
DEFAULT_PLAUSIBLE_COUNT = 1_000_000


@dataclass
class ReturnContext:
    """What row rules check a return against."""

    items: pd.DataFrame  # the data model's items, indexed by item_id
    rules: pd.DataFrame | None  # the data model's cross-item rules
    authorities: pd.DataFrame  # la_code_ons, la_code_dfe, la_name
    version: str = ""
    expected_periods: list[str] | None = None
    plausible_count: float = DEFAULT_PLAUSIBLE_COUNT


def text_column(df: pd.DataFrame, col: str) -> pd.Series:
    """An optional text column ('' where absent)."""
    if col not in df.columns:
        return pd.Series("", index=df.index, dtype="string")
    return df[col].astype("string").fillna("")
