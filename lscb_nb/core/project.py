"""A project: one consultant's workspace, with every decision in ``project.yaml``.

The toolkit and a project are two things. What ships with the toolkit (reference
tables, the candidate data model, criteria) lives inside the package; what a
project decides (its authorities, pilots, collection periods, deadlines,
suppression threshold, candidate dataset, release dates, report title) lives in
the project's own ``project.yaml``, checked against a JSON Schema on every load.
The bundled sample is one such project, marked ``synthetic: true``.

Every command and notebook acts on one :class:`Project`, found by
:func:`find_project` (``--project DIR``, else ``LSCB_NB_PROJECT``, else the nearest
``project.yaml`` in the current folder or its parents).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

import pandas as pd
import yaml

from lscb_nb.core import periods, reference, regional
from lscb_nb.core.projectfile import (
    PROJECT_FILE,
    ProjectError,
    area_of,
    authority_table,
    authority_word,
    in_london,
    say_authority,
    validate_settings,
)

log = logging.getLogger(__name__)

ENV_VAR = "LSCB_NB_PROJECT"
# The la_code of the reports about the whole area (as against one authority).
AREA = "area"
# Spellings of the whole-area code accepted from users and older notebooks.
_AREA_ALIASES = {"area", "london", "all"}

# The raw folders of a project: (path under data/raw, what goes there, in what form).
# {example_name} and {example_code} become one of the project's own authorities.
RAW_FOLDERS: dict[str, tuple[str, str]] = {
    "catalogues": (
        "phase1_catalogues",
        "Phase 1: each authority's current local dataset, as the authority sent it.\n\n"
        "One file per authority (Excel .xlsx/.xlsm or CSV), in the authority's own layout: "
        "the reader finds the header row (item name, definition, source, frequency, ...) "
        "in the first rows of each sheet. Name the file after the authority (e.g. "
        "`{example_name}.xlsx` or `{example_code}_dataset.csv`; short forms such as "
        "`Durham` are recognised) or put the authority's name in a title cell. "
        "Password-protected, old .xls and unreadable files are listed, not lost.",
    ),
    "instruments": (
        "phase2_instruments",
        "Phase 2: completed accessibility and usefulness instruments.\n\n"
        "One Excel file per rater, made with `lscb-nb instrument --la <authority>` and "
        "filled in by the rater (scores 1-4 or DK on every item and criterion, rater "
        "name, agency and role in the rater block). Several raters per pilot authority.",
    ),
    "returns": (
        "phase3_returns",
        "Phase 3: the pilot authorities' quarterly returns.\n\n"
        "Either the Excel template (`lscb-nb template --la <authority> --period "
        '"2025-26 Q1"`), filled in without renaming sheets or item ids, or the long CSV '
        "described in the toolkit's README (one row per authority, period and item). "
        "Files are never changed; `lscb-nb ingest` reads them all into data/processed.\n\n"
        "Optional: `../phase3_receipts.csv` with columns `la_code_ons, period, agency, "
        "received_date` records when each agency's part of each return arrived, for the "
        "timeliness figures; without it every figure on file counts as on time.",
    ),
}


@dataclass(frozen=True)
class Project:
    """One project, loaded once and passed to each stage and notebook."""

    root: Path
    settings: Mapping = field(repr=False)

    # ---- what the project decided ------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.settings["name"])

    @property
    def synthetic(self) -> bool:
        """The project holds the generated sample data (every report then says so)."""
        return bool(self.settings.get("synthetic", False))

    @cached_property
    def authorities(self) -> pd.DataFrame:
        """The authorities taking part, as :func:`reference.authorities` lays them out."""
        return authority_table(self.settings.get("authorities", "london"), "authorities")

    @property
    def authority_codes(self) -> list[str]:
        return self.authorities["la_code_ons"].tolist()

    @cached_property
    def pilots(self) -> list[str]:
        """ONS codes of the pilot authorities, in the order project.yaml gives them."""
        wanted = self.settings.get("pilots") or []
        codes = []
        for key in wanted:
            try:
                codes.append(str(reference.find_in(self.authorities, key)["la_code_ons"]))
            except KeyError as exc:
                raise ProjectError(
                    f"project.yaml: pilots: {key!r} is not one of the project's authorities. "
                    f"{exc.args[0]}"
                ) from None
        return list(dict.fromkeys(codes))

    @property
    def area_name(self) -> str:
        """What the whole area is called in reports and comparators: project.yaml's
        ``area``, else the region's name when every authority is in one, else the
        project's name."""
        if self.settings.get("area"):
            return str(self.settings["area"])
        return area_of(self.authorities, self.name)

    @property
    def is_london(self) -> bool:
        """The project's authorities are London's 33 (London-wide published figures apply)."""
        return set(self.authority_codes) == set(reference.authorities()["la_code_ons"])

    @property
    def in_london(self) -> bool:
        """Every one of the project's authorities is a London borough (so its reports
        say 'borough', and London-only source systems and comparators apply)."""
        return in_london(self.authority_codes)

    @cached_property
    def regions(self) -> set[str]:
        """The regions the project's authorities are in (London, North East, ...)."""
        return regional.regions_of(self.authorities)

    @property
    def authority_word(self) -> str:
        """What the reports call one authority: 'borough' in a London project, else
        'authority'."""
        return authority_word(self.authority_codes)

    def word(self, n: int | None = None, plural: bool = False, capital: bool = False) -> str:
        """The authority word: 'borough', 'boroughs' (``plural``), '3 boroughs' (``n``),
        or 'Authority' (``capital``), agreeing in number through :mod:`labels`."""
        return say_authority(self.authority_word, n, plural, capital)

    @property
    def first_period(self) -> str | None:
        return self.settings.get("collection", {}).get("first_period")

    @property
    def last_period(self) -> str | None:
        return self.settings.get("collection", {}).get("last_period")

    @cached_property
    def periods(self) -> list[str]:
        """The quarters being collected, in order (empty until the project sets them)."""
        if not (self.first_period and self.last_period):
            return []
        return periods.period_range(self.first_period, self.last_period)

    @property
    def as_of(self) -> date:
        """The date deadlines are judged on: ``collection.as_of``, else today."""
        value = self.settings.get("collection", {}).get("as_of")
        return date.fromisoformat(str(value)) if value else date.today()

    @property
    def quorum(self) -> float:
        """``benchmark.quorum``: a share of the pilots (0 < q <= 1) or, from 2, a number."""
        return float(self.settings.get("benchmark", {}).get("quorum", 0.5))

    def quorum_count(self, pilots: int | None = None) -> int:
        """How many authorities a quarter's benchmark, an average or a rank needs: the
        quorum as a number of the ``pilots`` (the project's pilots by default), at least 1."""
        n = len(self.pilots) if pilots is None else pilots
        q = self.quorum
        needed = math.ceil(q * n - 1e-9) if q <= 1 else int(q)
        return max(1, needed)

    @property
    def min_quarters(self) -> int:
        """Quarters of returns an item needs before phase 3 decides anything about it."""
        return int(self.settings.get("refinement", {}).get("min_quarters", 2))

    @property
    def min_pilots(self) -> int:
        """Pilots whose returns must carry an item before phase 3 decides about it."""
        value = self.settings.get("refinement", {}).get("min_pilots")
        return int(value) if value else self.quorum_count()

    @property
    def min_alpha_lower(self) -> float:
        """``assessment.min_alpha_lower``: how well raters must agree (the lower bound of
        alpha's interval) before phase 2 places an item (default 0.667)."""
        return float(self.settings.get("assessment", {}).get("min_alpha_lower", 0.667))

    @property
    def overrules(self) -> Path:
        """The board's overrule file (``decisions.overrules``, relative to project.yaml)."""
        name = self.settings.get("decisions", {}).get("overrules") or "overrules.csv"
        return self.root / str(name)

    @property
    def deadline_days(self) -> int:
        """Days after a quarter ends by which a return is due (the default for all agencies)."""
        raw = self.settings.get("collection", {}).get("deadline_days", 30)
        return int(raw["default"] if isinstance(raw, Mapping) else raw)

    def deadline_for(self, agency: str) -> int:
        raw = self.settings.get("collection", {}).get("deadline_days", 30)
        if isinstance(raw, Mapping):
            return int(raw.get(agency, raw["default"]))
        return int(raw)

    @property
    def deadline_overrides(self) -> dict[str, int]:
        raw = self.settings.get("collection", {}).get("deadline_days", 30)
        if isinstance(raw, Mapping):
            return {k: int(v) for k, v in raw.items() if k != "default"}
        return {}

    @property
    def suppression_threshold(self) -> int:
        return int(self.settings.get("suppression_threshold", 5))

    @property
    def candidate(self) -> str:
        """The candidate data model: a shipped version name or a path to a YAML file."""
        return str(self.settings.get("datamodel", {}).get("candidate", "1.0-candidate"))

    def released(self, role: str) -> str | None:
        """The release date the project set for the version of ``role`` (draft, pilot, refined)."""
        value = self.settings.get("datamodel", {}).get("released", {}).get(role)
        return str(value) if value else None

    @property
    def title(self) -> str:
        return str(self.settings.get("report", {}).get("title") or self.name)

    # ---- where things live -----------------------------------------------------------
    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def processed(self) -> Path:
        return self.root / "data" / "processed"

    @property
    def catalogues(self) -> Path:
        return self.raw / RAW_FOLDERS["catalogues"][0]

    @property
    def instruments(self) -> Path:
        return self.raw / RAW_FOLDERS["instruments"][0]

    @property
    def returns(self) -> Path:
        return self.raw / RAW_FOLDERS["returns"][0]

    @property
    def receipts(self) -> Path:
        return self.raw / "phase3_receipts.csv"

    @property
    def truth(self) -> Path:
        """The sample generator's record of what it planted (synthetic projects only)."""
        return self.raw / "synthetic_truth.json"

    @property
    def crosswalk(self) -> Path:
        """The consultant's reviewed phase 1 decisions."""
        return self.root / "data" / "crosswalk" / "phase1_crosswalk.csv"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    @property
    def datamodel_dir(self) -> Path:
        """Where the phases write their data-model versions."""
        return self.processed / "datamodel"

    def paths(self) -> dict[str, Path]:
        """The standard folders, by name (the shape ``config.paths`` had)."""
        return {
            "root": self.root,
            "raw": self.raw,
            "processed": self.processed,
            "catalogues": self.catalogues,
            "instruments": self.instruments,
            "returns": self.returns,
            "receipts": self.receipts,
            "truth": self.truth,
            "outputs": self.outputs,
        }

    # ---- authorities ---------------------------------------------------------------
    def find_authority(self, code_or_name: str | int) -> pd.Series:
        """One of the project's authorities by ONS code, DfE code or name."""
        return reference.find_in(self.authorities, code_or_name)

    def authority_name(self, code: str) -> str:
        if is_area(code):
            return self.area_name
        return reference.authority_name(code)

    def area_code(self, code: str | None) -> str:
        """The canonical la_code: :data:`AREA` for the whole area, else an ONS code."""
        if code is None or is_area(code) or str(code).strip() == self.area_name:
            return AREA
        return str(self.find_authority(code)["la_code_ons"])


def is_area(code: object) -> bool:
    """``code`` means the whole area (``area``; ``London`` as older notebooks wrote it)."""
    return str(code).strip().casefold() in _AREA_ALIASES


def load_project(path: Path | str | Project) -> Project:
    """The project in folder ``path`` (or the project.yaml at ``path``), validated."""
    if isinstance(path, Project):
        return path
    path = Path(path).expanduser()
    file = (
        path
        if path.name == PROJECT_FILE or path.suffix in (".yaml", ".yml")
        else path / PROJECT_FILE
    )
    if not file.is_file():
        raise ProjectError(
            f"No {PROJECT_FILE} in {path}. Create a project with `lscb-nb init {path}`."
        )
    try:
        settings = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProjectError(f"{file} is not valid YAML: {exc}") from None
    settings = validate_settings(settings, str(file))
    project = Project(root=file.parent.resolve(), settings=settings)
    # Resolve authorities and pilots now, so a wrong name fails on load, not mid-run.
    project.authorities  # noqa: B018
    project.pilots  # noqa: B018
    log.debug("loaded project %s from %s", project.name, file)
    return project


def find_project(
    explicit: Path | str | Project | None = None, start: Path | None = None
) -> Project:
    """The project to act on: ``explicit``, else ``$LSCB_NB_PROJECT``, else the nearest
    ``project.yaml`` in ``start`` (the current folder) or its parents."""
    if isinstance(explicit, Project):
        return explicit
    if explicit:
        return load_project(explicit)
    if os.environ.get(ENV_VAR):
        return load_project(os.environ[ENV_VAR])
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return load_project(folder)
    raise ProjectError(
        f"No project found: no --project given, {ENV_VAR} is not set, and there is no "
        f"{PROJECT_FILE} in {here} or any folder above it. Create one with "
        "`lscb-nb init DIR`, then run commands inside DIR or pass --project DIR."
    )


class AreaReport:
    """What every phase's report context shares: the project and the area the report
    is about (``la_code``: an authority's ONS code, or ``AREA`` for the whole area).
    A mixin for the phases' context dataclasses, so each says it once."""

    project: Project
    la_code: str

    @property
    def is_london(self) -> bool:
        """The report is about the whole area, not one authority."""
        return self.la_code == AREA

    @property
    def area(self) -> str:
        return self.project.area_name

    def name(self, code: str) -> str:
        """An authority's name from its code (the area's name for ``AREA``)."""
        return self.project.authority_name(code)

    def word(self, n: int | None = None, plural: bool = False, capital: bool = False) -> str:
        """What the report calls an authority: see :meth:`Project.word`."""
        return self.project.word(n, plural, capital)
