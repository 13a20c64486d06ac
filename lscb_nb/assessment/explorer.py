"""Phase 2's interactive explorer, for JupyterLab: the items filtered by agency, theme and score."""

from __future__ import annotations

import logging

from lscb_nb.assessment.context import Context
from lscb_nb.core.display import table

log = logging.getLogger(__name__)


def explorer(ctx: Context, explore: bool = False):
    """In JupyterLab (``explore=True``): filter items by agency, theme and score."""
    if not explore:
        return None
    import ipywidgets as w
    from IPython.display import display

    agencies = w.SelectMultiple(options=sorted(ctx.items["agency"].unique()), description="Agency")
    themes = w.SelectMultiple(options=sorted(ctx.items["theme"].unique()), description="Theme")
    min_useful = w.FloatSlider(value=1.0, min=1.0, max=4.0, step=0.25, description="Usefulness ≥")
    out = w.Output()

    def refresh(_change=None) -> None:
        d = ctx.decisions.join(ctx.items[["theme"]])
        if agencies.value:
            d = d.loc[d["agency"].isin(agencies.value)]
        if themes.value:
            d = d.loc[d["theme"].isin(themes.value)]
        d = d.loc[d["usefulness"] >= min_useful.value]
        out.clear_output()
        with out:
            display(
                table(
                    d.reset_index()[
                        ["item_id", "title", "usefulness", "accessibility", "decision"]
                    ].astype({"decision": str}),
                    caption="Items matching the filters",
                    decimals={"usefulness": 2, "accessibility": 2},
                )
            )

    for widget in (agencies, themes, min_useful):
        widget.observe(refresh, names="value")
    refresh()
    return w.VBox([w.HBox([agencies, themes]), min_useful, out])
