"""One validated version of the dataset as tables, and its conversion to and from the
plain dicts YAML holds.

:func:`from_dict` is the only way in: it validates first (:mod:`.schema`), so every
:class:`DataModel` in the toolkit is one that passed, and fills in the fields an
item may leave out.
"""

from __future__ import annotations

import copy
import difflib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from lscb_nb.core.datamodel.checks import released_text
from lscb_nb.core.datamodel.schema import (
    ITEM_DEFAULTS,
    ITEM_FIELDS,
    META_FIELDS,
    RULE_FIELDS,
    validate_datamodel,
)
from lscb_nb.core.datamodel.vocab import AGENCIES, AGENCY_LABELS

log = logging.getLogger(__name__)


class DataModelError(ValueError):
    """A data-model file or dict that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: Iterable[str], source: str | None = None) -> None:
        self.problems: list[str] = list(problems)
        where = f"{source}: " if source else ""
        count = len(self.problems)
        head = f"{where}{count} problem{'s' if count != 1 else ''} in the data model"
        super().__init__(head + ":\n" + "\n".join(f"- {p}" for p in self.problems))


# --------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class DataModel:
    """One validated version of the dataset.

    ``items`` has one row per item, indexed by ``item_id``, with every other field
    of SCHEMA.md as a column (list fields stay Python lists, ``valid_range`` a dict),
    in file order. ``rules`` has the columns of :data:`RULE_FIELDS`. ``meta`` holds
    the top-level fields (dataset, version, status, based_on, released, description).
    Equality is identity: compare versions with :func:`diff_datamodels`.
    """

    version: str
    meta: dict
    items: pd.DataFrame
    rules: pd.DataFrame

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return (
            f"DataModel(version={self.version!r}, items={len(self.items)}, rules={len(self.rules)})"
        )

    @property
    def item_ids(self) -> list[str]:
        """Item ids in file order."""
        return [str(i) for i in self.items.index]

    def item(self, item_id: str) -> dict:
        """One item as a plain dict with every field (``item_id`` included)."""
        if item_id not in self.items.index:
            close = difflib.get_close_matches(str(item_id), self.item_ids, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise KeyError(f"No item {item_id!r} in data model {self.version}.{hint}")
        return _item_record(item_id, self.items.loc[item_id])

    def by_agency(self, agency: str) -> pd.DataFrame:
        """The items one agency supplies (its code, 'police', or its label, 'Police')."""
        key = str(agency).strip()
        by_label = {label.casefold(): code for code, label in AGENCY_LABELS.items()}
        code = key if key in AGENCIES else by_label.get(key.casefold())
        if code is None:
            raise ValueError(
                f"Unknown agency {agency!r}: use one of {', '.join(AGENCIES)} "
                "(or its readable name, e.g. 'Police')."
            )
        return self.items[self.items["agency"] == code].copy()


def range_text(valid_range: Mapping | None) -> str:
    """A valid_range in words: '0 to 100', '0 or more', 'any value'."""
    low = (valid_range or {}).get("min")
    high = (valid_range or {}).get("max")
    if low is None and high is None:
        return "any value"
    if high is None:
        return f"{low:g} or more"
    if low is None:
        return f"{high:g} or less"
    return f"{low:g} to {high:g}"


def _plain(value: Any) -> Any:
    """Python values YAML and JSON can write: no numpy scalars, NaN as None."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar
    if value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return value


def _item_record(item_id: str, row: pd.Series) -> dict:
    record = {"item_id": str(item_id)}
    for field in ITEM_FIELDS[1:]:
        record[field] = copy.deepcopy(_plain(row[field]))
    return record


def from_dict(raw: Mapping, *, file_name: str | Path | None = None) -> DataModel:
    """A :class:`DataModel` from a dict as read from YAML; DataModelError lists every problem."""
    problems = validate_datamodel(raw, file_name=file_name)
    if problems:
        raise DataModelError(problems, str(file_name) if file_name else None)
    raw = copy.deepcopy(dict(raw))
    meta = {field: raw.get(field) for field in META_FIELDS}  # optional ones (revises): None
    meta["released"] = released_text(meta["released"])
    records = []
    for item in raw["items"]:
        record = {
            field: copy.deepcopy(item.get(field, ITEM_DEFAULTS.get(field))) for field in ITEM_FIELDS
        }
        record["valid_range"] = {
            "min": record["valid_range"]["min"],
            "max": record["valid_range"]["max"],
        }
        record["published_measures"] = [
            {"source": m["source"], "measure": m["measure"]} for m in record["published_measures"]
        ]
        records.append(record)
    items = pd.DataFrame.from_records(records, columns=list(ITEM_FIELDS)).set_index("item_id")
    items["decimal_places"] = items["decimal_places"].astype("int64")
    items["essential"] = items["essential"].astype(bool)
    rules = pd.DataFrame.from_records(
        [{f: r[f] for f in RULE_FIELDS} for r in raw.get("cross_item_rules") or []],
        columns=list(RULE_FIELDS),
    )
    return DataModel(version=str(meta["version"]), meta=meta, items=items, rules=rules)


def to_dict(dm: DataModel) -> dict:
    """The model as plain dicts and lists, in file order: what :func:`save_datamodel` writes."""
    out: dict[str, Any] = {field: _plain(dm.meta.get(field)) for field in META_FIELDS}
    out["items"] = [_item_record(i, row) for i, row in dm.items.iterrows()]
    out["cross_item_rules"] = [
        {field: _plain(getattr(rule, field)) for field in RULE_FIELDS}
        for rule in dm.rules.itertuples(index=False)
    ]
    return out


def keep_items(raw: dict, item_ids: Iterable[str]) -> dict:
    """``raw`` (as from :func:`to_dict`) with only these items; related items,
    denominator items and cross-item rules that name a removed item are dropped too,
    so the new version validates. Phases use it to derive the next version."""
    ids = set(item_ids)
    kept = [item for item in raw["items"] if item["item_id"] in ids]
    for item in kept:
        item["related_items"] = [r for r in item.get("related_items") or [] if r in ids]
        if item.get("denominator_item") not in ids:
            item["denominator_item"] = None
    rules = [r for r in raw["cross_item_rules"] if r["left"] in ids and r["right"] in ids]
    return {**raw, "items": kept, "cross_item_rules": rules}
