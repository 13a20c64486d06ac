"""Tests for lscb_nb/core/units.py: one scaling for every unit, read from data/vocab/units.yaml."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lscb_nb.core import units


def test_units_table_declares_each_unit_once_with_its_scale():
    assert units.codes() == ("count", "percentage", "rate_per_10k")
    assert units.scale("percentage") == 100.0
    assert units.scale("rate_per_10k") == 10_000.0
    assert units.kind_scale("proportion") == 100.0
    assert units.kind_scale("rate") == 10_000.0


def test_scaled_per_unit_row_by_row():
    # Camden 2025 referrals (data/reference/README.md): 2,086 / 35,276 x 10,000 = 591.3.
    got = units.scaled([2086, 3, 12], [35276, 4, 999], ["rate_per_10k", "percentage", "count"])
    assert got[0] == pytest.approx(591.3369, abs=1e-4)
    assert got[1] == 75.0
    assert got[2] == 12.0  # a count is the count itself, whatever the base


def test_scaled_leaves_a_zero_base_missing_not_zero():
    got = units.scaled([5], [0], "percentage")
    assert not np.isfinite(got[0])


def test_unit_of_kind_maps_a_statistical_kind_to_its_unit():
    assert list(units.unit_of_kind(["proportion", "rate", "count"])) == [
        "percentage",
        "rate_per_10k",
        "count",
    ]
    assert pd.isna(units.unit_of_kind(["nonsense"])[0])
