"""DfE's Explore Education Statistics tables (children in need census, children looked
after, social work workforce), read into the one tidy shape of :func:`published`.

Each table's measure titles are module-level data; its file comes from the manifest.
Suppression and missing codes become value states, never zeros.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import numpy as np
import pandas as pd

from lscb_nb.core.reference.authorities import area_columns
from lscb_nb.core.reference.manifest import file_name, ids, read_csv
from lscb_nb.core.values import parse_values

log = logging.getLogger(__name__)

# The bundled DfE Explore Education Statistics tables, by source id (LAIT is the
# other published source).
DFE_FILES: dict[str, str] = {sid: file_name(sid) for sid in ids("published") if sid != "lait"}

DFE_MEASURE_TITLES: dict[str, dict[str, str]] = {
    "dfe_cin_b1": {
        "Anypoint_episodes": "Children in need at any point in the year (episodes)",
        "Anypoint_child": "Children in need at any point in the year (children)",
        "Started_episodes": "Episodes of need starting in the year",
        "Started_child": "Children starting an episode of need in the year",
        "Ended_episodes": "Episodes of need ending in the year",
        "Ended_child": "Children ending an episode of need in the year",
        "At31_episodes": "Children in need at 31 March (episodes)",
        "awaiting_assessment": "Children in need at 31 March awaiting assessment",
    },
    "dfe_cin_c1": {
        "referral_count": "Referrals to children's social care in the year",
        "rereferral_count": "Re-referrals within 12 months of a previous referral",
        "rereferral_percent": "Re-referrals within 12 months (% of referrals)",
        "no_further_action_count": "Referrals resulting in no further action",
        "no_further_action_percent": "Referrals resulting in no further action (% of referrals)",
        "not_in_need_count": "Referrals assessed, child not in need",
        "not_in_need_percent": "Referrals assessed, child not in need (% of referrals)",
        "referral_child_count": "Children referred in the year",
        "rereferral_child_count": "Children re-referred within 12 months",
        "rereferral_child_percent": "Children re-referred within 12 months (% of children)",
    },
    "dfe_cin_c3": {
        "Episodes_with_assessment_factor": "Episodes of need with assessment factor information",
        "Alcohol_Misuse_child": "Factor at end of assessment: alcohol misuse by the child",
        "Alcohol_Misuse_parent": "Factor at end of assessment: alcohol misuse by a parent or carer",
        "Alcohol_Misuse_person": "Factor at end of assessment: alcohol misuse by another person",
        "Drug_Misuse_child": "Factor at end of assessment: drug misuse by the child",
        "Drug_Misuse_parent": "Factor at end of assessment: drug misuse by a parent or carer",
        "Drug_Misuse_person": "Factor at end of assessment: drug misuse by another person",
        "Domestic_Abuse_child": "Factor at end of assessment: domestic abuse, the child as subject",
        "Domestic_Abuse_parent": (
            "Factor at end of assessment: domestic abuse, a parent or carer as subject"
        ),
        "Domestic_Abuse_person": (
            "Factor at end of assessment: domestic abuse, another person as subject"
        ),
        "Mental_Health_child": "Factor at end of assessment: mental health of the child",
        "Mental_Health_parent": "Factor at end of assessment: mental health of a parent or carer",
        "Mental_Health_person": "Factor at end of assessment: mental health of another person",
        "Learning_Disability_child": (
            "Factor at end of assessment: learning disability of the child"
        ),
        "Learning_Disability_parent": (
            "Factor at end of assessment: learning disability of a parent or carer"
        ),
        "Learning_Disability_person": (
            "Factor at end of assessment: learning disability of another person"
        ),
        "Physical_Disability_child": (
            "Factor at end of assessment: physical disability or illness of the child"
        ),
        "Physical_Disability_parent": (
            "Factor at end of assessment: physical disability or illness of a parent or carer"
        ),
        "Physical_Disability_person": (
            "Factor at end of assessment: physical disability or illness of another person"
        ),
        "Young_Carer": "Factor at end of assessment: young carer",
        "Privately_fostered": "Factor at end of assessment: privately fostered",
        "Unaccompanied_asylum_seeker": (
            "Factor at end of assessment: unaccompanied asylum-seeking child"
        ),
        "Going_missing": "Factor at end of assessment: going or being missing",
        "Child_sexual_exploitation": "Factor at end of assessment: child sexual exploitation",
        "Trafficking": "Factor at end of assessment: trafficking",
        "Gangs": "Factor at end of assessment: gangs",
        "Socially_unacceptable_behaviour": (
            "Factor at end of assessment: socially unacceptable behaviour"
        ),
        "Self_harm": "Factor at end of assessment: self-harm",
        "Neglect": "Factor at end of assessment: neglect",
        "Emotional_Abuse": "Factor at end of assessment: emotional abuse",
        "Physical_Abuse_unknown": (
            "Factor at end of assessment: physical abuse (who by not recorded)"
        ),
        "Physical_Abuse_child_on_child": (
            "Factor at end of assessment: physical abuse, child on child"
        ),
        "Physical_Abuse_adult_on_child": (
            "Factor at end of assessment: physical abuse, adult on child"
        ),
        "Sexual_Abuse_unknown": "Factor at end of assessment: sexual abuse (who by not recorded)",
        "Sexual_Abuse_child_on_child": "Factor at end of assessment: sexual abuse, child on child",
        "Sexual_Abuse_adult_on_child": "Factor at end of assessment: sexual abuse, adult on child",
        "Female_Genital_Mutilation": "Factor at end of assessment: female genital mutilation",
        "Faith_linked_abuse": "Factor at end of assessment: abuse linked to faith or belief",
        "Child_criminal_exploitation": "Factor at end of assessment: child criminal exploitation",
        "Other": "Factor at end of assessment: other",
    },
    "dfe_cin_c4": {
        "Section47": "Section 47 enquiries starting in the year",
        "Section47_child": "Children subject to a section 47 enquiry starting in the year",
        "ICPC": "Initial child protection conferences in the year",
        "ICPC_child": "Children subject to an initial child protection conference",
        "Duration_0-10_days": "ICPCs 0-10 working days after the strategy discussion",
        "Duration_11-15_days": "ICPCs 11-15 working days after the strategy discussion",
        "Duration_16-20_days": "ICPCs 16-20 working days after the strategy discussion",
        "Duration_21+_days": "ICPCs 21 or more working days after the strategy discussion",
        "Duration_25th_Percentile": "Working days from strategy discussion to ICPC (25th pct)",
        "Duration_median": "Working days from strategy discussion to ICPC (median)",
        "Duration_75th_Percentile": "Working days from strategy discussion to ICPC (75th pct)",
    },
    "dfe_cin_d3": {
        "CPP_start": "Child protection plans starting in the year",
        "CPP_subsequent": "Child protection plans starting that were a second or later plan",
        "CPP_subsequent_percent": "Second or later child protection plans (% of plans started)",
    },
    "dfe_cin_d5": {
        "CPP_At31": "Children subject to a child protection plan at 31 March",
        "3_months_or_less": "Plans at 31 March lasting 3 months or less",
        "3_months_or_less_percent": "Plans at 31 March lasting 3 months or less (%)",
        "more_than_3_months_6_months": "Plans at 31 March lasting 3 to 6 months",
        "more_than_3_months_6_months_percent": "Plans at 31 March lasting 3 to 6 months (%)",
        "more_than_6_months_less_than_1_year": "Plans at 31 March lasting 6 months to 1 year",
        "more_than_6_months_less_than_1_year_percent": (
            "Plans at 31 March lasting 6 months to 1 year (%)"
        ),
        "1_year_less_than_2_years": "Plans at 31 March lasting 1 to 2 years",
        "1_year_less_than_2_years_percent": "Plans at 31 March lasting 1 to 2 years (%)",
        "2_years_or_more": "Plans at 31 March lasting 2 years or more",
        "2_years_or_more_percent": "Plans at 31 March lasting 2 years or more (%)",
    },
    "dfe_csww": {
        "inpost_fte": "Children and family social workers in post (FTE)",
        "inpost_headcount": "Children and family social workers in post (headcount)",
        "starters_fte": "Social workers starting in the year (FTE)",
        "starters_headcount": "Social workers starting in the year (headcount)",
        "leavers_fte": "Social workers leaving in the year (FTE)",
        "leavers_headcount": "Social workers leaving in the year (headcount)",
        "turnover_rate_fte": "Social worker turnover rate (%, FTE)",
        "turnover_rate_headcount": "Social worker turnover rate (%, headcount)",
        "agency_fte": "Agency social workers (FTE)",
        "agency_headcount": "Agency social workers (headcount)",
        "agency_rate_fte": "Agency worker rate (%, FTE)",
        "agency_rate_headcount": "Agency worker rate (%, headcount)",
        "agency_cover_fte": "Agency workers covering vacancies (FTE)",
        "agency_cover_rate_fte": "Agency workers covering vacancies (% of agency FTE)",
        "vacancy_fte": "Social worker vacancies (FTE)",
        "vacancy_rate_fte": "Social worker vacancy rate (%, FTE)",
        "vacancy_agency_cover_rate_fte": "Vacancies covered by agency workers (% of vacancy FTE)",
        "case_holders_fte": "Case-holding social workers (FTE)",
        "cases": "Cases held by case-holding social workers",
        "caseload_fte": "Average caseload per case-holding social worker (FTE)",
        "working_days_lost_fte": "Working days lost to sickness absence (FTE)",
        "absence_rate_fte": "Sickness absence rate (%, FTE)",
    },
}
# SSDA903's long table: one row per population type, with a count and a rate.
SSDA903_RATE_SUFFIX = " rate per 10000"

# Columns of published(), in order.
PUBLISHED_COLUMNS: tuple[str, ...] = (
    "source",
    "measure",
    "measure_title",
    "year",
    "year_label",
    "geographic_level",
    "area_code",
    "la_code_dfe",
    "area_name",
    "value",
    "value_state",
    "state_reason",
)

_DFE_ID_COLUMNS = (
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
    "region_code",
    "region_name",
    "old_la_code",
    "new_la_code",
    "la_name",
    "category",
)


def parse_cells(raw: pd.Series | np.ndarray) -> pd.DataFrame:
    """values.parse_values on each distinct cell once, spread back over the rows.

    Published tables repeat values a lot (LAIT: 641,070 cells, 55,323 distinct),
    so parsing the distinct ones is several times faster and gives the same result.
    """
    codes, distinct = pd.factorize(raw, use_na_sentinel=False)
    parsed = parse_values(pd.Series(distinct))
    return pd.DataFrame(
        {
            "value": parsed["value"].to_numpy(dtype="float64")[codes],
            "value_state": pd.array(parsed["state"].astype(str), dtype="str").take(codes),
            "state_reason": pd.array(parsed["state_reason"].astype(str), dtype="str").take(codes),
        }
    )


@lru_cache(maxsize=len(DFE_FILES))
def read_table(source: str) -> pd.DataFrame:
    """One bundled DfE table in the tidy shape of published() (cached: copy before changing)."""
    raw = read_csv(source)
    rows = len(raw)
    if source == "dfe_ssda903":
        # Long already: the measure is the population type, with a count and a rate.
        kind = raw["population_type"].to_numpy(dtype=object)
        cells = np.concatenate([raw["children_count"], raw["rate_per_10000"]])
        measure = np.concatenate([kind, kind + SSDA903_RATE_SUFFIX])
        title = np.concatenate([kind, kind + ": rate per 10,000 children aged 0-17"])
        row = np.tile(np.arange(rows), 2)
    else:
        columns = [c for c in raw.columns if c not in _DFE_ID_COLUMNS]
        cells = raw[columns].to_numpy(dtype=object).T.ravel()  # column by column
        measure = np.repeat(np.array(columns, dtype=object), rows)
        titles = DFE_MEASURE_TITLES[source]
        title = np.repeat(np.array([titles.get(c, c) for c in columns], dtype=object), rows)
        row = np.tile(np.arange(rows), len(columns))
    areas = area_columns(raw).take(row).reset_index(drop=True)
    parsed = parse_cells(cells)
    frame = pd.DataFrame(
        {
            "source": source,
            "measure": pd.array(measure, dtype="str"),
            "measure_title": pd.array(title, dtype="str"),
            "year": pd.array(raw["time_period"].astype("int64").to_numpy()[row], dtype="Int64"),
            "year_label": raw["time_period"].take(row).reset_index(drop=True),
            **{c: areas[c] for c in areas.columns},
            **{c: parsed[c] for c in parsed.columns},
        }
    )
    frame["source"] = frame["source"].astype("str")
    return frame[list(PUBLISHED_COLUMNS)]
