"""DfE's children's services statistical neighbours (2025 model and April 2021
groupings): the ten authorities most like one, closest first."""

from __future__ import annotations

import logging
from functools import lru_cache

import pandas as pd

from lscb_nb.core.reference.authorities import (
    authorities,
    latest_authority_names,
    resolve_la_code,
)
from lscb_nb.core.reference.manifest import path, read_csv

log = logging.getLogger(__name__)


def _closeness(raw: pd.Series) -> pd.Series:
    """'Very Close ' and 'Very close' -> 'Very close': the two models' spellings agree."""
    return raw.str.strip().str.capitalize()


@lru_cache(maxsize=2)
def _neighbour_model(model: str) -> pd.DataFrame:
    """Long table: la_code_dfe, rank, neighbour_code_dfe, closeness."""
    if model == "2021":
        # Header repeats 'SNP' for every closeness column, so read by position:
        # 0 LA num, 1 LA Name, 2 LA number, 3 GOInd, 4 GOReg, then SN_k at 5 + 2(k-1).
        wide = pd.read_csv(
            path("dfe_sn_2021"),
            header=None,
            skiprows=1,
            dtype=str,
            encoding="utf-8-sig",
        )
        wide = wide[wide[0].str.fullmatch(r"\d+", na=False)]
        # Rows under the file's 'Old SNs:' line are predecessor authorities (e.g.
        # Northamptonshire): each authority appears once, so no row is dropped.
        wide = wide.drop_duplicates(0)
        parts = [
            pd.DataFrame(
                {
                    "la_code_dfe": wide[0],
                    "rank": k,
                    "neighbour": wide[5 + 2 * (k - 1)],
                    "closeness": wide[6 + 2 * (k - 1)],
                }
            )
            for k in range(1, 11)
        ]
    elif model == "2025":
        wide = read_csv("dfe_sn_2025")
        parts = [
            pd.DataFrame(
                {
                    "la_code_dfe": wide["old_la_code"],
                    "rank": k,
                    "neighbour": wide[f"SN_{k}"],
                    "closeness": wide[f"SN_{k}P"],
                }
            )
            for k in range(1, 11)
        ]
    else:
        raise ValueError(f"model must be '2025' or '2021', not {model!r}.")
    long = pd.concat(parts, ignore_index=True).dropna(subset=["neighbour"])
    long["la_code_dfe"] = long["la_code_dfe"].astype("int64")
    long["neighbour"] = long["neighbour"].astype("int64")
    long["closeness"] = _closeness(long["closeness"])
    return long.sort_values(["la_code_dfe", "rank"], ignore_index=True)


def statistical_neighbours(
    la: str | int, model: str = "2025", london_only: bool = False
) -> pd.DataFrame:
    """An authority's ten statistical neighbours in DfE's model, closest first.

    ``la`` is a London authority as :func:`find_authority` takes it, or the DfE
    code of any English authority in the model. ``model`` is '2025' (DfE's 2025
    children's services model) or '2021' (the April 2021 groupings in LAIT).
    ``london_only`` keeps the London neighbours, with the model's ``rank`` (so
    ranks may skip).

    Columns: ``rank`` (1 = closest), ``la_code_dfe``, ``la_name`` (London names
    from :func:`authorities`, others from DfE's published tables), ``closeness``
    (the model's band: 'Extremely close', 'Very close', 'Close', 'Somewhat close',
    'Not close') and ``la_code_ons`` (the latest ONS code DfE publishes for it).
    """
    table = _neighbour_model(str(model))
    code = resolve_la_code(la)
    rows = table[table["la_code_dfe"] == code]
    if rows.empty:
        raise KeyError(f"Authority {la!r} (DfE {code}) is not in the {model} neighbour model.")
    names = latest_authority_names()
    london = authorities().set_index("la_code_dfe")
    neighbour = rows["neighbour"]
    la_name = neighbour.map(london["la_name"]).fillna(neighbour.map(names["la_name"]))
    la_code_ons = neighbour.map(london["la_code_ons"]).fillna(neighbour.map(names["la_code_ons"]))
    out = pd.DataFrame(
        {
            "rank": rows["rank"].astype("int64"),
            "la_code_dfe": neighbour.astype("int64"),
            "la_name": la_name,
            "closeness": rows["closeness"],
            "la_code_ons": la_code_ons,
        }
    )
    if london_only:
        out = out[out["la_code_dfe"].isin(london.index)]
    return out.reset_index(drop=True)
