"""The permission matrix (``permissions.yaml``) and the one function that reads it.

Every view asks :func:`allowed` with the signed-in account's membership, the
action and, for an object, the object itself; the object's scope (own agency,
other agency of the same authority, other authority) is worked out from the
membership, never from the request. :func:`visible` filters a queryset to what
an account may see, so a foreign id answers exactly like a missing one.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from django.db.models import Q, QuerySet

OWN_AGENCY = "own_agency"
OTHER_AGENCY = "other_agency"
OTHER_AUTHORITY = "other_authority"
SCOPES = (OWN_AGENCY, OTHER_AGENCY, OTHER_AUTHORITY)


@cache
def matrix() -> dict:
    text = (resources.files("lscb_nb.service") / "permissions.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def scope_of(membership, la_code_ons: str, agency: str) -> str:
    """Where an object of ``la_code_ons`` and ``agency`` stands for ``membership``."""
    if membership.is_admin:
        return OWN_AGENCY if not la_code_ons else OTHER_AUTHORITY
    if la_code_ons != membership.la_code_ons:
        return OTHER_AUTHORITY
    if not membership.agency or agency == membership.agency:
        return OWN_AGENCY
    return OTHER_AGENCY


def roles_for(action: str) -> dict[str, list[str]]:
    return matrix()["actions"][action]["roles"]


def statuses_for(action: str) -> list[str] | None:
    return matrix()["actions"][action].get("statuses")


def allowed(membership, action: str, obj=None, scope: str | None = None) -> bool:
    """May ``membership`` do ``action`` (on ``obj``, or at ``scope``)? Status is not
    checked here (see :func:`status_allows`): a wrong status is a 409, not a 403."""
    if membership is None:
        return False
    if scope is None:
        scope = scope_of(membership, obj.la_code_ons, obj.agency) if obj is not None else OWN_AGENCY
    return scope in roles_for(action).get(membership.role, [])


def status_allows(action: str, status: str) -> bool:
    wanted = statuses_for(action)
    return wanted is None or status in wanted


def visible(membership, queryset: QuerySet, action: str = "submission.view") -> QuerySet:
    """The rows of ``queryset`` (with ``la_code_ons`` and ``agency``) the account may see."""
    if membership is None:
        return queryset.none()
    scopes = set(roles_for(action).get(membership.role, []))
    if OTHER_AUTHORITY in scopes:
        return queryset
    if not scopes:
        return queryset.none()
    own_la = Q(la_code_ons=membership.la_code_ons)
    if OTHER_AGENCY in scopes or not membership.agency:
        return queryset.filter(own_la)
    return queryset.filter(own_la, agency=membership.agency)
