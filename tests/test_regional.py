"""Names that hold in one region only (lscb_nb/core/regional.py): the Metropolitan
Police's systems reach a London project's reports and no other's."""

from __future__ import annotations

from lscb_nb.core import reference, regional
from lscb_nb.core.datamodel import load_datamodel

LONDON_POLICE = {
    "Metropolitan Police CRIS",
    "Metropolitan Police MERLIN",
    "City of London Police records",
}


def test_london_only_systems_are_kept_only_for_a_london_project():
    systems = ["Police force crime recording system", *sorted(LONDON_POLICE)]
    assert regional.source_systems(systems, {"London"}) == systems
    assert regional.source_systems(systems, {"North East"}) == [
        "Police force crime recording system"
    ]
    assert regional.source_systems(systems, {"North East", "London"}) == systems
    assert regional.source_systems(None, {"London"}) == []


def test_every_london_police_system_of_the_candidate_is_declared_and_has_a_general_one():
    items = load_datamodel("1.0-candidate").items
    named = {s for systems in items["source_systems"] for s in systems}
    london_like = {s for s in named if "Metropolitan" in s or "City of London" in s}
    assert london_like == LONDON_POLICE
    assert all(regional.region_of("source_systems", s) == "London" for s in london_like)
    for item_id, systems in items["source_systems"].items():
        if set(systems) & LONDON_POLICE:  # elsewhere, the item still names a system
            assert regional.source_systems(systems, {"North West"}), item_id


def test_regions_of_a_table_of_authorities_say_london_not_its_subregions():
    england = reference.england_authorities()
    some = england[england["la_name"].isin(["Camden", "Croydon", "County Durham"])]
    assert regional.regions_of(some) == {"London", "North East"}
