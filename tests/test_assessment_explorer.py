"""Phase 2's explorer: its choices are in words, and a change of borough, item or
criterion redraws in place what depends on it, with the chosen borough's raters."""

from __future__ import annotations

import base64
import html
import re

import pytest

from lscb_nb.assessment import explorer
from lscb_nb.assessment.context import load_context
from lscb_nb.core.project import AREA

CROYDON, EALING = "E09000008", "E09000009"


@pytest.fixture(scope="module")
def ctx(sample_project):
    return load_context(sample_project["root"], CROYDON)


@pytest.fixture
def box(ctx):
    return explorer.explorer(ctx, explore=True)


def shown(out) -> tuple[bytes, str]:
    """What an Output widget shows: the PNG and the img's alt text (unescaped)."""
    (output,) = out.outputs
    markup = output["data"]["text/html"]
    png = base64.b64decode(re.search(r'base64,([^"]+)"', markup).group(1))
    alt = html.unescape(re.search(r'alt="([^"]*)"', markup).group(1))
    assert alt == output["data"]["text/plain"]
    return png, alt


def pictures(box) -> dict[str, tuple[bytes, str]]:
    return {name: shown(out) for name, out in box.outputs.items()}


def test_without_explore_the_report_gets_nothing(ctx):
    assert explorer.explorer(ctx, explore=False) is None


def test_choices_are_in_words_with_codes_beside(ctx):
    ex = explorer.Explorer(ctx)
    boroughs = ex.boroughs()
    assert boroughs[0] == (f"All pilot boroughs ({ctx.area})", AREA)
    names = [name for name, _ in boroughs[1:]]
    assert "Croydon" in names and names == sorted(names)
    assert {code for _, code in boroughs[1:]} == set(ctx.ratings["la_code_ons"])
    items = dict((code, label) for label, code in ex.items())
    assert items["CSC02"] == "Re-referrals within 12 months (CSC02)"
    criteria = dict((code, label) for label, code in ex.criteria())
    assert criteria[explorer.ALL] == "All criteria"
    assert criteria["definition_match"] == "Definition match (accessibility)"
    assert all("_" not in label for label in criteria.values())


def test_descriptions_are_not_cut_short(box):
    for control in ("borough", "item", "criterion"):
        widget = box.controls[control]
        assert widget.style.description_width == "initial"
        assert widget.description == control.capitalize()


def test_it_starts_on_the_reports_borough_with_all_three_figures(box, ctx):
    c = box.controls
    assert c["borough"].value == CROYDON and c["criterion"].value == explorer.ALL
    now = pictures(box)
    assert all(png.startswith(b"\x89PNG") for png, _ in now.values())
    first = c["item"].value
    assert f"({first})" in now["matrix"][1] and "Croydon's raters" in now["matrix"][1]
    assert "Croydon's raters" in now["ratings"][1] and f"({first})" in now["ratings"][1]
    assert now["grid"][1].startswith("Grid of Croydon's raters' mean accessibility")
    assert "Croydon" in c["text"].value


def test_a_change_of_borough_redraws_every_figure_for_that_borough(box):
    before = pictures(box)
    box.controls["borough"].value = EALING
    after = pictures(box)
    for name in ("matrix", "ratings", "grid"):
        assert after[name][0] != before[name][0], name
        assert "Ealing" in after[name][1] and "Croydon" not in after[name][1], name
    assert "Ealing" in box.controls["text"].value
    box.controls["borough"].value = AREA
    area = pictures(box)
    assert "star" not in area["matrix"][1]  # no borough's own placing to mark
    assert "by the agency of the rater" in area["ratings"][1]


def test_a_change_of_item_redraws_the_matrix_and_ratings_and_keeps_the_grid(box, ctx):
    before = pictures(box)
    first = box.controls["item"].value
    other = next(code for _, code in box.controls["item"].options if code != first)
    box.controls["item"].value = other
    after = pictures(box)
    assert after["matrix"][0] != before["matrix"][0]
    assert after["ratings"][0] != before["ratings"][0]
    assert f"Ringed: {ctx.decisions.at[other, 'title']} ({other})" in after["matrix"][1]
    assert after["grid"] == before["grid"]


def test_a_change_of_criterion_outlines_it_and_keeps_the_matrix(box):
    before = pictures(box)
    box.controls["criterion"].value = "held"
    after = pictures(box)
    assert after["matrix"] == before["matrix"]
    for name in ("ratings", "grid"):
        assert after[name][0] != before[name][0]
        assert after[name][1].endswith("Outlined: Held."), name
    assert "Is the figure held" in box.controls["text"].value
    box.controls["criterion"].value = "relevance"  # a usefulness criterion
    useful = pictures(box)
    assert "mean usefulness scores" in useful["grid"][1]
    assert useful["grid"][1].endswith("Outlined: Relevance.")
    box.controls["criterion"].value = explorer.ALL
    assert pictures(box)["grid"] == before["grid"]  # the outline is gone again


def test_the_item_grid_holds_each_raters_scores_and_everyones_mean(ctx):
    ex = explorer.Explorer(ctx)
    r = ctx.ratings
    mine = r.loc[(r["la_code_ons"] == CROYDON) & (r["item_id"] == "CSC02")]
    grid = ex.item_grid(CROYDON, "CSC02")
    assert len(grid) == mine["rater_id"].nunique() + 1
    assert grid.index[-1] == "All pilot raters (mean)"
    held = r.loc[(r["item_id"] == "CSC02") & (r["criterion"] == "held"), "score"].astype(float)
    assert grid.loc["All pilot raters (mean)", "held"] == pytest.approx(held.mean())
    scored = mine.dropna(subset=["score"]).astype({"score": float})
    assert sorted(grid.iloc[:-1]["effort"].dropna()) == sorted(
        scored.loc[scored["criterion"] == "effort", "score"]
    )


def test_the_sentence_escapes_what_it_quotes(ctx):
    ex = explorer.Explorer(ctx)
    text = ex.sentence(CROYDON, "CSC01", "held")
    assert "children&#x27;s" in text.lower() and "children's" not in text.lower()


def test_the_notebook_shows_the_explorer_only_when_asked(ctx, tmp_path):
    import papermill as pm

    from lscb_nb.core import config

    def widget_outputs(explore: bool) -> int:
        out = tmp_path / f"explore_{explore}.ipynb"
        nb = pm.execute_notebook(
            str(config.NOTEBOOKS_DIR / "02_assessment.ipynb"),
            str(out),
            parameters={"project": str(ctx.project.root), "la_code": CROYDON, "explore": explore},
            kernel_name="python3",
            progress_bar=False,
        )
        return sum(
            "application/vnd.jupyter.widget-view+json" in o.get("data", {})
            for cell in nb.cells
            for o in cell.get("outputs", [])
        )

    assert widget_outputs(True) == 1
    assert widget_outputs(False) == 0
