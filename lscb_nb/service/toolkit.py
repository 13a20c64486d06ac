"""The service's one door into the toolkit: the project it runs on, its data model,
authorities, periods and population, loaded once per process and shared by every
request. The service reads returns and checks them only through these objects and
the toolkit's own functions; it never copies them."""

from __future__ import annotations

import logging
from functools import cache

import pandas as pd
from django.conf import settings

from lscb_nb.core import datamodel, phases, reference
from lscb_nb.core.datamodel import DataModel
from lscb_nb.core.project import Project, find_project

log = logging.getLogger(__name__)


@cache
def project() -> Project:
    """The project in ``settings.PROJECT_DIR`` (the folder ``lscb-nb serve`` was given)."""
    return find_project(settings.PROJECT_DIR)


@cache
def candidate() -> DataModel:
    """The project's candidate data model: the default version of a new window."""
    return phases.load_candidate(project())


@cache
def model(version: str) -> DataModel:
    """The data model of ``version``: the candidate, else the project's own or shipped one."""
    dm = candidate()
    if version == dm.version:
        return dm
    folder = project().datamodel_dir
    if (folder / f"{version}.yaml").exists():
        return datamodel.load_datamodel(version, folder)
    return datamodel.load_datamodel(version)


@cache
def population() -> pd.DataFrame:
    return reference.population(areas="all")


def authority(code_or_name: str) -> pd.Series:
    """One of the project's authorities, by ONS code, DfE code or name (KeyError if not)."""
    return project().find_authority(code_or_name)


@cache
def authority_names() -> dict[str, str]:
    """ONS code -> name of every authority of the project."""
    table = project().authorities
    return dict(zip(table["la_code_ons"], table["la_name"].astype(str), strict=True))


def authority_name(code: str) -> str:
    return authority_names().get(code, code)


def reset() -> None:
    """Forget the loaded project (tests that switch project folders call this)."""
    for fn in (project, candidate, model, population, authority_names):
        fn.cache_clear()
