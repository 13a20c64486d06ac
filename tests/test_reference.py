"""The bundled reference data and the rates the toolkit computes from it.

The rate checks compare the toolkit's own rates with DfE's published ones: the
Local Authority Interactive Tool (LAIT, dfe-analytical-services/
local-authority-interactive-tool, commit 2e30e39, ``bds_long_0.parquet``) and the
SSDA903 'Children looked after in England' table (``rate_per_10000``). The expected
figures are read from those files at test time, never from this toolkit.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lscb_nb.core import reference, values
from lscb_nb.core.reference import manifest

# --------------------------------------------------------------------------------------
# Authorities
# --------------------------------------------------------------------------------------


def test_authorities_are_londons_33():
    la = reference.authorities()
    assert len(la) == 33
    assert list(la.columns) == ["la_code_ons", "la_code_dfe", "la_name", "subregion", "region_code"]
    assert sorted(la["la_code_ons"]) == [f"E09{n:06d}" for n in range(1, 34)]
    assert sorted(la["la_code_dfe"]) == [*range(201, 214), *range(301, 321)]
    assert la["la_code_dfe"].dtype == "int64"
    assert la["la_name"].tolist() == sorted(la["la_name"])
    assert set(la["subregion"]) == {"Inner London", "Outer London"}


def test_subregions_follow_the_ons_statistical_definition():
    # DfE's Inner London includes Haringey and Newham and leaves out Greenwich.
    sub = reference.authorities().set_index("la_name")["subregion"]
    assert sub["Haringey"] == "Inner London"
    assert sub["Newham"] == "Inner London"
    assert sub["Greenwich"] == "Outer London"
    assert (sub == "Inner London").sum() == 14


def test_authorities_returns_a_copy():
    mine = reference.authorities()
    mine.loc[0, "la_name"] = "changed"
    assert "changed" not in reference.authorities()["la_name"].tolist()


@pytest.mark.parametrize("key", ["E09000007", "e09000007", 202, "202", "Camden", "  camden "])
def test_find_authority_by_each_key(key):
    la = reference.find_authority(key)
    assert la["la_name"] == "Camden"
    assert la["la_code_ons"] == "E09000007"
    assert la["la_code_dfe"] == 202


def test_find_authority_tolerates_ampersand():
    assert reference.find_authority("Barking & Dagenham")["la_code_dfe"] == 301


@pytest.mark.parametrize("key", ["Camdem", "Manchester", 352, "E08000003", ""])
def test_find_authority_explains_how_to_spell_it(key):
    with pytest.raises(KeyError) as caught:
        reference.find_authority(key)
    message = str(caught.value)
    assert "ONS code" in message
    assert "DfE code" in message


def test_find_authority_suggests_a_close_name():
    with pytest.raises(KeyError, match="Did you mean 'Camden'"):
        reference.find_authority("Camdem")


# --------------------------------------------------------------------------------------
# Population
# --------------------------------------------------------------------------------------


def test_population_for_a_known_authority_is_the_files_figure():
    # ons_mid-year_population_estimates_2012_to_2024.csv: Camden, 2024, 35276.
    pop = reference.population(2024)
    camden = pop[pop["area_code"] == "E09000007"]
    assert camden["population_0_17"].tolist() == [35_276]
    assert camden["la_code_dfe"].tolist() == [202]
    raw = pd.read_csv(manifest.path("ons_population"), dtype=str)
    file_value = raw.loc[
        (raw["time_period"] == "2024") & (raw["new_la_code"] == "E09000007"),
        "population_estimate",
    ]
    assert file_value.astype(int).tolist() == camden["population_0_17"].tolist()


def test_population_shape_and_london_areas():
    pop = reference.population()
    assert list(pop.columns) == [
        "area_code",
        "la_code_dfe",
        "area_name",
        "geographic_level",
        "mid_year",
        "population_0_17",
    ]
    for year, rows in pop.groupby("mid_year"):
        assert len(rows) == 37, year  # 33 authorities, London, Inner, Outer, England
    assert set(pop["area_code"]) >= {"E12000007", "E13000001", "E13000002", "E92000001"}
    assert pop["la_code_dfe"].dtype == "Int64"
    assert pop.loc[pop["geographic_level"] != "Local authority", "la_code_dfe"].isna().all()


@pytest.mark.parametrize("year", [2012, 2018, 2024])
def test_london_is_the_sum_of_its_authorities(year):
    pop = reference.population(year).set_index("area_code")["population_0_17"]
    la = reference.authorities()
    inner = la.loc[la["subregion"] == "Inner London", "la_code_ons"]
    outer = la.loc[la["subregion"] == "Outer London", "la_code_ons"]
    assert pop[la["la_code_ons"]].sum() == pop["E12000007"]
    assert pop[inner].sum() == pop["E13000001"]
    assert pop[outer].sum() == pop["E13000002"]


def test_population_all_areas_and_unknown_year():
    every = reference.population(2024, areas="all")
    assert (every["geographic_level"] == "Local authority").sum() > 150
    assert (every["geographic_level"] == "Regional").sum() == 11
    with pytest.raises(KeyError, match="mid-year 1990"):
        reference.population(1990)
    with pytest.raises(ValueError):
        reference.population(areas="world")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# Statistical neighbours
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["2025", "2021"])
def test_camden_has_ten_ranked_neighbours(model):
    sn = reference.statistical_neighbours("Camden", model=model)
    assert list(sn.columns) == ["rank", "la_code_dfe", "la_name", "closeness", "la_code_ons"]
    assert sn["rank"].tolist() == list(range(1, 11))
    assert sn["la_name"].notna().all()
    assert sn["la_code_ons"].notna().all()
    assert 202 not in sn["la_code_dfe"].tolist()
    assert set(sn["closeness"]) <= {
        "Extremely close",
        "Very close",
        "Close",
        "Somewhat close",
        "Not close",
    }


def test_neighbours_outside_london_are_named_from_published_tables():
    # The 2021 model puts Manchester (352) among Camden's neighbours; the 2025 model
    # gives Manchester its own, mostly outside London.
    sn = reference.statistical_neighbours(202, model="2021").set_index("la_code_dfe")
    assert sn.loc[352, "la_name"] == "Manchester"
    assert sn.loc[352, "la_code_ons"] == "E08000003"
    manchester = reference.statistical_neighbours(352)
    assert len(manchester) == 10
    assert "Nottingham" in manchester["la_name"].tolist()


def test_london_only_keeps_the_models_ranks():
    every = reference.statistical_neighbours("Camden", model="2021")
    london = reference.statistical_neighbours("Camden", model="2021", london_only=True)
    london_codes = set(reference.authorities()["la_code_dfe"])
    assert set(london["la_code_dfe"]) <= london_codes
    expected = every[every["la_code_dfe"].isin(london_codes)]
    assert london["rank"].tolist() == expected["rank"].tolist()


def test_unknown_neighbour_model():
    with pytest.raises(ValueError, match="model"):
        reference.statistical_neighbours("Camden", model="2019")


# --------------------------------------------------------------------------------------
# Published series
# --------------------------------------------------------------------------------------


def test_published_is_one_tidy_shape_across_sources():
    pub = reference.published()
    assert tuple(pub.columns) == reference.PUBLISHED_COLUMNS
    assert set(pub["source"].unique()) == set(reference.SOURCES)
    assert set(pub["geographic_level"].unique()) == {"National", "Regional", "Local authority"}
    assert pub["year"].dtype == "Int64"
    assert pub["la_code_dfe"].dtype == "Int64"
    assert pub["value"].dtype == "float64"
    states = set(pub["value_state"].unique())
    assert states <= set(values.STATES) - {values.MISSING, values.INVALID}
    # A value is a number exactly when its state is reported.
    assert (pub["value"].notna() == (pub["value_state"] == values.REPORTED)).all()
    assert pub["measure_title"].notna().all()
    areas = pub[["source", "area_code"]].drop_duplicates()
    london = set(reference.authorities()["la_code_ons"])
    for source, rows in areas.groupby("source"):
        codes = set(rows["area_code"])
        assert {"E92000001", "E12000007", "E13000001", "E13000002"} <= codes, source
        # Every London authority, and authorities outside London (neighbours). The
        # workforce census has one return for Kingston and Richmond together.
        expected = london
        if source == "dfe_csww":
            expected = london - {"E09000021", "E09000027"} | {"E09000021 / E09000027"}
        assert expected <= codes, source
        assert "E08000003" in codes, source  # Manchester


def test_published_filters_and_explains_unknown_names():
    c1 = reference.published(source="dfe_cin_c1")
    assert set(c1["source"]) == {"dfe_cin_c1"}
    referrals = reference.published("referral_count")
    assert set(referrals["source"]) == {"dfe_cin_c1"}
    with pytest.raises(ValueError, match="dfe_cin_c1"):
        reference.published(source="dfe_cin_z9")
    with pytest.raises(KeyError, match="referral_count"):
        reference.published("referal_count")


def test_hackney_2021_and_2022_are_not_available_not_zero():
    # Hackney made no CIN return for 2021 and 2022 (cyber attack): DfE shows x.
    c1 = reference.published("referral_count", "dfe_cin_c1")
    hackney = c1[(c1["area_name"] == "Hackney") & c1["year"].isin([2021, 2022])]
    assert len(hackney) == 2
    assert (hackney["value_state"] == values.NOT_AVAILABLE).all()
    assert hackney["value"].isna().all()
    assert hackney["state_reason"].str.contains("x").all()
    assert hackney["year_label"].tolist() == ["2022", "2021"]


def test_city_of_london_has_suppressed_values():
    pub = reference.published(source="dfe_cin_c1")
    city = pub[pub["area_code"] == "E09000001"]
    suppressed = city[city["value_state"] == values.SUPPRESSED]
    assert len(suppressed) > 0
    assert suppressed["value"].isna().all()
    assert (suppressed["state_reason"] == "suppressed (DfE code c)").all()


def test_lait_dash_is_not_available_and_years_parse():
    lait = reference.published(source="lait")
    dash = lait[lait["value_state"] == values.NOT_AVAILABLE]
    assert len(dash) > 0 and dash["value"].isna().all()
    assert (dash["state_reason"] == "not available (-)").all()
    labels = lait.drop_duplicates("year_label").set_index("year_label")["year"]
    assert labels["2025"] == 2025
    assert labels["2024-25"] == 2025
    assert labels["2023/24"] == 2024
    assert labels["2025 (Rev)"] == 2025
    assert labels["2024-25 (OT)"] == 2025
    assert labels["2021/22-23/24"] == 2024
    assert pd.isna(labels["0"])


def test_lait_titles_are_forward_filled_and_areas_mapped():
    lait = reference.published("CPP_rate", "lait")
    assert set(lait["measure_title"]) == {
        "Rate of children who were the subject of a child protection plan at 31 March "
        "per 10,000 children"
    }
    camden = lait[lait["area_name"] == "Camden"]
    assert set(camden["area_code"]) == {"E09000007"}
    assert set(camden["la_code_dfe"]) == {202}
    inner = lait[lait["area_code"] == "E13000001"]
    assert set(inner["area_name"]) == {"Inner London"}
    assert inner["la_code_dfe"].isna().all()


def test_ssda903_counts_and_rates_are_separate_measures():
    cla = reference.published(source="dfe_ssda903")
    measure = "Children looked after on 31 March each year"
    assert {measure, measure + " rate per 10000"} <= set(cla["measure"])
    camden = cla[(cla["area_code"] == "E09000007") & (cla["year"] == 2025)]
    by_measure = camden.set_index("measure")["value"]
    assert by_measure[measure] == 205
    assert by_measure[measure + " rate per 10000"] == 58


def test_published_returns_copies():
    first = reference.published("CIN", "lait")
    first.loc[:, "value"] = -1.0
    assert (reference.published("CIN", "lait")["value"] != -1.0).all()


# --------------------------------------------------------------------------------------
# Rounding
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "decimals", "expected"),
    [
        (0.125, 2, 0.13),  # round() gives 0.12 (half to even)
        (2.675, 2, 2.68),  # stored as 2.67499999...; round() gives 2.67
        (591.25, 1, 591.3),  # round() gives 591.2
        (2.5, 0, 3.0),
        (0.5, 0, 1.0),
        (-2.5, 0, -3.0),  # halves away from zero, as Excel's ROUND
        (-0.125, 2, -0.13),
        (1234.5, -1, 1230.0),
        (1235.0, -1, 1240.0),
        (57 / 200 * 100, 0, 29.0),  # 28.499999999999996 in binary
        (2086 / 35276 * 10_000, 1, 591.3),
    ],
)
def test_round_half_up(x, decimals, expected):
    assert reference.round_half_up(x, decimals) == expected


def test_round_half_up_is_vectorised_and_passes_nan_through():
    array = reference.round_half_up(np.array([[0.125, 2.675], [np.nan, -0.125]]), 2)
    assert array.shape == (2, 2)
    np.testing.assert_array_equal(array, [[0.13, 2.68], [np.nan, -0.13]])
    assert reference.round_half_up([0.5, None, 1.5]).tolist()[::2] == [1.0, 2.0]
    assert math.isnan(reference.round_half_up(float("nan")))
    assert reference.round_half_up(float("inf")) == float("inf")
    series = pd.Series([591.25, pd.NA, 0.125], index=["a", "b", "c"], name="rate", dtype="Float64")
    out = reference.round_half_up(series, 1)
    assert out.index.tolist() == ["a", "b", "c"] and out.name == "rate"
    assert out["a"] == 591.3 and math.isnan(out["b"]) and out["c"] == 0.1


def test_rate_per_10k():
    # Camden 2025, DfE's worked figures: referrals 2,086 / 35,276 -> 591.3.
    assert reference.rate_per_10k(2086, 35_276) == 591.3
    assert reference.rate_per_10k(205, 35_276, decimals=0) == 58.0
    assert math.isnan(reference.rate_per_10k(5, 0))
    counts = pd.Series([2086, 1808, None], index=[1, 2, 3])
    out = reference.rate_per_10k(counts, pd.Series([35_276, 35_276, 35_276], index=[1, 2, 3]))
    assert out.tolist()[:2] == [591.3, 512.5] and math.isnan(out[3])
    np.testing.assert_array_equal(reference.rate_per_10k([1, 2], [0, 3]), [np.nan, 6666.7])


# --------------------------------------------------------------------------------------
# The toolkit's rates reproduce DfE's published ones
# --------------------------------------------------------------------------------------

# LAIT's rate per 10,000 and the DfE count it is computed from.
LAIT_RATES: list[tuple[str, str, str]] = [
    ("CPP_Total_Rateper10,000", "dfe_cin_c1", "referral_count"),  # referrals
    ("CIN", "dfe_cin_b1", "At31_episodes"),  # children in need at 31 March
    ("Section_47", "dfe_cin_c4", "Section47"),  # section 47 enquiries started
    ("CPP_rate", "dfe_cin_d5", "CPP_At31"),  # child protection plans at 31 March
    ("ISCP_Conf", "dfe_cin_c4", "ICPC"),  # initial child protection conferences
    ("CPP_Abuse_Rate", "dfe_cin_d3", "CPP_start"),  # child protection plans started
]
YEARS = range(2016, 2026)


def _checked_authorities() -> list[int]:
    """London's 33 and Camden's and Croydon's neighbours outside London (2025 model)."""
    codes = set(reference.authorities()["la_code_dfe"])
    for la in ("Camden", "Croydon"):
        codes |= set(reference.statistical_neighbours(la)["la_code_dfe"])
    return sorted(codes)


def test_camden_2025_worked_example():
    # data/reference/README.md: Camden 2025 against LAIT.
    assert reference.dfe_rate_per_10k("Camden", "referral_count", "dfe_cin_c1", 2025) == 591.3
    assert reference.dfe_rate_per_10k("Camden", "At31_episodes", "dfe_cin_b1", 2025) == 512.5
    assert reference.dfe_rate_per_10k("Camden", "Section47", "dfe_cin_c4", 2025) == 253.7
    assert reference.dfe_rate_per_10k("Camden", "CPP_At31", "dfe_cin_d5", 2025) == 42.8


@pytest.mark.slow  # a property, fuzz or real-data test: the slow lane
@pytest.mark.parametrize(("lait_code", "source", "measure"), LAIT_RATES)
def test_rates_reproduce_lait(lait_code, source, measure):
    lait = reference.published(lait_code, "lait")
    lait = lait[
        lait["la_code_dfe"].isin(_checked_authorities())
        & lait["year"].isin(YEARS)
        & (lait["value_state"] == values.REPORTED)
    ]
    compared, mismatches = 0, []
    for row in lait.itertuples():
        ours = reference.dfe_rate_per_10k(int(row.la_code_dfe), measure, source, int(row.year))
        compared += 1
        if f"{ours:.1f}" != f"{row.value:.1f}":
            mismatches.append((row.area_name, row.year, row.value, ours))
    assert mismatches == []
    assert compared >= 33 * 8  # every authority for most years; Hackney has no 2021-22
    assert lait["la_code_dfe"].nunique() >= 38  # London's 33 and neighbours elsewhere
    assert lait["year"].nunique() == 10


def test_rates_reproduce_lait_for_london_and_england():
    for lait_code, source, measure in LAIT_RATES:
        lait = reference.published(lait_code, "lait")
        for area in ("London", "Inner London", "Outer London", "England"):
            row = lait[(lait["area_name"] == area) & (lait["year"] == 2025)]
            ours = reference.dfe_rate_per_10k(area, measure, source, 2025)
            assert f"{ours:.1f}" == f"{row['value'].iloc[0]:.1f}", (lait_code, area)


@pytest.mark.slow  # a property, fuzz or real-data test: the slow lane
@pytest.mark.parametrize(
    "population_type",
    [
        "Children looked after on 31 March each year",
        "Children starting to be looked after each year",
        "Children ceasing to be looked after each year",
    ],
)
def test_cla_rates_reproduce_ssda903(population_type):
    # cla_number_and_rate_per_10k_children.csv publishes whole-number rates.
    published = reference.published(population_type + " rate per 10000", "dfe_ssda903")
    published = published[
        published["la_code_dfe"].isin(_checked_authorities())
        & (published["value_state"] == values.REPORTED)
    ]
    assert published["year"].nunique() == 5  # 2021-2025
    for row in published.itertuples():
        ours = reference.dfe_rate_per_10k(
            int(row.la_code_dfe), population_type, "dfe_ssda903", int(row.year)
        )
        assert ours == row.value, (row.area_name, row.year)
    assert len(published) >= 33 * 5


def test_dfe_rate_states_and_errors():
    # A count that is not available gives no rate, not zero.
    assert math.isnan(reference.dfe_rate_per_10k("Hackney", "referral_count", "dfe_cin_c1", 2021))
    with pytest.raises(KeyError):
        reference.dfe_rate_per_10k("Camden", "referral_count", "dfe_cin_c1", 2012)
    with pytest.raises(ValueError, match="rate"):
        reference.dfe_rate_per_10k("Camden", "CIN", "lait", 2025)
    with pytest.raises(KeyError):
        reference.dfe_rate_per_10k("Atlantis", "referral_count", "dfe_cin_c1", 2025)


# --------------------------------------------------------------------------------------
# The manifest of bundled sources
# --------------------------------------------------------------------------------------


def test_manifest_lists_every_file_in_the_reference_folder_once():
    folder = manifest.path("lait").parent
    on_disk = {
        p.name
        for p in folder.iterdir()
        if p.is_file() and p.name not in ("README.md", manifest.MANIFEST_FILE)
    }
    listed = manifest.sources()["file"].tolist()
    assert len(listed) == len(set(listed))
    assert set(listed) == on_disk
    assert manifest.sources()["id"].is_unique


def test_manifest_declares_the_sources_published_reads():
    assert manifest.ids("published") == reference.SOURCES
    assert set(reference.DFE_FILES) | {"lait"} == set(reference.SOURCES)
    assert set(reference.DFE_SOURCES) < set(reference.DFE_FILES)
    with pytest.raises(KeyError, match="dfe_cin_c1"):
        manifest.source("dfe_cin_c9")


def test_every_source_has_its_provenance():
    table = manifest.sources()
    assert not table[list(manifest.MANIFEST_FIELDS)].isna().any().any()
    assert table["url"].str.startswith("https://").all()
    text = reference.sources_markdown()
    assert text.count("\n") == len(table) + 2
    assert "Open Government Licence v3.0" in text
    assert "`lait_bds_long_0.parquet`" in text


def test_readme_provenance_is_the_manifest():
    """The README's table of sources is rendered from the manifest, never written beside it."""
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- sources:start -->\n", "<!-- sources:end -->"
    block = readme[readme.index(start) + len(start) : readme.index(end)]
    assert block == reference.sources_markdown()


def test_citation_names_publisher_title_year_and_licence():
    one = reference.citation(["dfe_cin_c1", "dfe_cin_c1"])
    assert one == (
        "Source: Department for Education, Children in need census, table C1: referrals and "
        "re-referrals (2025). Open Government Licence v3.0."
    )
    two = reference.citation(["dfe_cin_c1", "ons_population"])
    assert two.startswith("Sources: Department for Education, ")
    assert "Office for National Statistics, ONS mid-year population estimates" in two
    assert reference.citation([]) == ""
    with pytest.raises(KeyError):
        reference.citation(["ofsted"])


# --------------------------------------------------------------------------------------
# Authority names: the short forms DfE, ONS and councils use (data/reference aliases)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("Durham", "County Durham"),
        ("Durham County Council", "County Durham"),
        ("Newcastle", "Newcastle upon Tyne"),
        ("Newcastle City Council", "Newcastle upon Tyne"),
        ("Stockton on Tees", "Stockton-on-Tees"),
        ("Stockton-on-Tees Borough Council", "Stockton-on-Tees"),
        ("Kingston", "Kingston upon Thames"),
        ("Royal Borough of Kingston upon Thames", "Kingston upon Thames"),
        ("London Borough of Camden", "Camden"),
        ("Brighton", "Brighton and Hove"),
        ("Brighton & Hove", "Brighton and Hove"),
        ("Bristol", "Bristol, City of"),
        ("Hull", "Kingston upon Hull, City of"),
        ("St Helens", "St. Helens"),
    ],
)
def test_short_and_council_forms_of_a_name_find_the_authority(written, name):
    assert reference.find_in(reference.england_authorities(), written)["la_name"] == name


def test_every_alias_names_an_authority_dfe_publishes_and_is_not_a_name_itself():
    england = reference.england_authorities().set_index("la_code_ons")
    aliases = reference.aliases()
    assert set(aliases["la_code_ons"]) <= set(england.index)
    assert (aliases["la_name"] == aliases["la_code_ons"].map(england["la_name"])).all()
    names = set(england["la_name"].map(reference.name_key))
    assert not set(aliases["alias"].map(reference.name_key)) & names
    assert aliases["alias"].map(reference.name_key).is_unique
    assert aliases["source"].str.len().gt(0).all()


def test_a_misspelt_name_is_refused_with_suggestions_and_examples_from_the_table():
    north_east = reference.england_authorities()
    north_east = north_east[north_east["subregion"] == "North East"]
    with pytest.raises(KeyError) as err:
        reference.find_in(north_east, "Durhm")
    message = err.value.args[0]
    assert "Did you mean 'County Durham'" in message
    assert "Camden" not in message and "E09" not in message


@pytest.mark.parametrize(
    ("file_name", "name"),
    [
        ("Durham.xlsx", "County Durham"),
        ("Stockton on Tees local dataset.csv", "Stockton-on-Tees"),
        ("newcastle_dataset_2025.xlsx", "Newcastle upon Tyne"),
        ("E06000047_dataset.csv", "County Durham"),
        ("Kingston upon Hull.xlsx", "Kingston upon Hull, City of"),
    ],
)
def test_a_phase1_file_named_after_a_short_form_is_recognised(file_name, name):
    from lscb_nb.mapping.localdata import authority_for

    found = authority_for(Path(file_name), None, reference.england_authorities())
    assert found is not None and found["la_name"] == name
