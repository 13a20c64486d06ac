"""project.yaml checked whole: its schema, the authorities and pilots it names, its
collection span and its release dates, every problem reported at once.

Kept apart from :mod:`lscb_nb.core.project`, which loads and finds projects, so that
what a project file may say, and how a wrong one is explained, sit in one place. An
analyst who mistyped three names and a period sees all four in one message, each
naming the key, the value and what is allowed, not one per run.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping
from datetime import date
from importlib import resources

import pandas as pd
import yaml

from lscb_nb.core import jsonschemas, periods, plan, reference
from lscb_nb.core.labels import counted, plural_of
from lscb_nb.core.reference import name_key

log = logging.getLogger(__name__)

PROJECT_FILE = "project.yaml"
_SCHEMA_FILE = "project.schema.yaml"


class ProjectError(Exception):
    """No project could be found, or its project.yaml is not valid. ``problems`` holds
    each problem on its own (one per key and value), the message all of them."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [message])


def area_of(authorities: pd.DataFrame, fallback: str) -> str:
    """The region all ``authorities`` are in (London for London's boroughs; England
    for every English authority), else ``fallback``."""
    codes = set(authorities["la_code_ons"])
    if in_london(codes):
        return reference.LONDON_NAME
    if len(codes) > len(reference.authorities()) and codes == set(
        reference.england_authorities()["la_code_ons"]
    ):
        return reference.ENGLAND_NAME
    regions = set(authorities["subregion"].dropna())
    return str(regions.pop()) if len(regions) == 1 else fallback


def in_london(codes: list[str] | pd.Series) -> bool:
    """All of ``codes`` are London boroughs (and there is at least one)."""
    codes = set(codes)
    return bool(codes) and codes <= set(reference.authorities()["la_code_ons"])


def authority_word(codes: list[str] | pd.Series | None) -> str:
    """'borough' when every one of ``codes`` is a London borough, else 'authority'
    (also when there is no project to ask: the neutral word)."""
    return "borough" if codes is not None and in_london(codes) else "authority"


def say_authority(
    word: str, n: int | None = None, plural: bool = False, capital: bool = False
) -> str:
    """``word`` ('borough' or 'authority') counted, plural or capitalised."""
    text = counted(n, word) if n is not None else plural_of(word) if plural else word
    return text[:1].upper() + text[1:] if capital else text


def authority_table(spec: object, key: str) -> pd.DataFrame:
    """The authorities ``spec`` names; a :class:`ProjectError` listing every entry
    not found (all at once)."""
    table, problems = _resolve_authorities(spec, key)
    if problems:
        raise ProjectError("project.yaml: " + " ".join(problems), problems)
    return table


def _resolve_authorities(spec: object, key: str) -> tuple[pd.DataFrame, list[str]]:
    """The authorities of ``spec`` that were found, and a problem for each one not."""
    if spec in (None, "london"):
        return reference.authorities(), []
    england = reference.england_authorities()
    if spec == "england":
        return england, []
    rows, problems = [], []
    for entry in spec:  # type: ignore[union-attr]
        try:
            rows.append(reference.find_in(england, entry))
        except KeyError as exc:
            problems.append(f"{key}: {exc.args[0]}")
    table = pd.DataFrame(rows, columns=england.columns).reset_index(drop=True)
    table["la_code_dfe"] = table["la_code_dfe"].astype("int64")
    table = table.drop_duplicates("la_code_ons").sort_values("la_name", ignore_index=True)
    return table, problems


def _schema() -> dict:
    text = (resources.files("lscb_nb") / "data" / "project" / _SCHEMA_FILE).read_text("utf-8")
    return yaml.safe_load(text)


def _describe(error) -> str:
    """One schema error as 'key: value: what is allowed'."""
    where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    allowed = error.schema.get("description") or ""
    if error.validator == "additionalProperties":
        known = ", ".join(sorted(error.schema.get("properties", {})))
        return f"{where}: {error.message}. Allowed keys here: {known}."
    if error.validator == "pattern":
        return f"{where}: {error.instance!r} is not a period such as '2025-26 Q1'."
    if error.validator in ("oneOf", "anyOf"):
        return f"{where}: {error.instance!r} is not allowed here. Expected: {allowed}."
    hint = f" Expected: {allowed}." if allowed else ""
    return f"{where}: {error.instance!r}: {error.message}.{hint}"


def validate_settings(settings: object, source: str = PROJECT_FILE) -> dict:
    """Check project settings against the schema and the reference tables.

    Raises one :class:`ProjectError` listing every problem at once (schema errors,
    authorities not found, pilots not among the authorities, period and release-date
    problems), each naming the key, the value and what is allowed.
    """
    if not isinstance(settings, dict):
        raise ProjectError(f"{source}: expected keys such as `name:`, found {type(settings)}.")
    released = (settings.get("datamodel") or {}).get("released")
    if isinstance(released, dict):
        for key, value in released.items():
            if isinstance(value, date):  # YAML reads an unquoted date as a date
                released[key] = value.isoformat()
    collection = settings.get("collection")
    if isinstance(collection, dict) and isinstance(collection.get("as_of"), date):
        collection["as_of"] = collection["as_of"].isoformat()
    plan.normalise_plan(settings)
    found = jsonschemas.errors(_schema(), settings, formats=True)
    errors = sorted(found, key=lambda e: list(e.absolute_path))
    problems = [_describe(e) for e in errors]
    bad = {tuple(e.absolute_path)[:2] for e in errors}
    problems += _period_problems(settings.get("collection") or {}, bad)
    problems += _release_problems(released if isinstance(released, dict) else {}, bad)
    problems += _authority_problems(settings, bad)
    if not errors:
        problems += plan.plan_problems(settings)
    if problems:
        raise ProjectError(f"{source} is not valid:\n  - " + "\n  - ".join(problems))
    return settings


def _period_problems(collection: Mapping, bad: set) -> list[str]:
    """The collection span in order and given whole (keys the schema already refused
    are left to its message)."""
    first, last = collection.get("first_period"), collection.get("last_period")
    if ("collection",) in bad or {
        ("collection", "first_period"),
        ("collection", "last_period"),
    } & bad:
        return []
    if bool(first) != bool(last):
        return ["collection: give both first_period and last_period, or neither."]
    if not (first and last):
        return []
    try:
        if periods.parse_period(first) > periods.parse_period(last):
            return [f"collection: first_period {first!r} comes after last_period {last!r}."]
    except periods.PeriodError as exc:
        return [f"collection: {exc}"]
    return []


def _release_problems(released: Mapping, bad: set) -> list[str]:
    """The versions' release dates in the order the phases write them."""
    if ("datamodel", "released") in bad:
        return []
    given = [(k, str(released[k])) for k in ("draft", "pilot", "refined") if released.get(k)]
    return [
        f"datamodel.released: {later} {b!r} is before {earlier} {a!r}; the versions are "
        "released in the order draft, pilot, refined."
        for (earlier, a), (later, b) in itertools.pairwise(given)
        if b < a
    ]


def _authority_problems(settings: Mapping, bad: set) -> list[str]:
    """Every authority and pilot project.yaml names, found in the reference tables
    (each one not found is listed, with the names it may have meant)."""
    if ("authorities",) in bad:
        return []
    table, problems = _resolve_authorities(settings.get("authorities", "london"), "authorities")
    if ("pilots",) in bad:
        return problems
    for key in settings.get("pilots") or []:
        try:
            reference.find_in(table, key)
        except KeyError as exc:
            problems.append(_pilot_problem(key, table, exc))
    return problems


def _pilot_problem(key: object, table: pd.DataFrame, exc: KeyError) -> str:
    try:
        outside = reference.find_in(reference.england_authorities(), key)["la_name"]
    except KeyError:
        return f"pilots: {key!r} is not one of the project's authorities. {exc.args[0]}"
    named = f" ({outside})" if name_key(outside) != name_key(str(key)) else ""
    return (
        f"pilots: {key!r}{named} is not one of the project's authorities; a pilot "
        "must also be listed under `authorities`."
    )
