"""Published reference data: London's authorities, populations, statistical
neighbours and DfE's national safeguarding series, in tidy shapes.

One module per family of sources (:mod:`.authorities`, :mod:`.population`,
:mod:`.neighbours`, :mod:`.dfe`, :mod:`.lait`), the series across them
(:mod:`.published`) and rate arithmetic (:mod:`.rates`). Every file is declared
once in ``lscb_nb/data/reference/sources.yaml`` (:mod:`.manifest`), with its
publisher, licence and provenance. File reads are cached, and every public
function returns a copy, so callers may change what they get back.

Conventions, as DfE publishes them:

- a DfE *year* is the year ending 31 March (``2025`` is 1 April 2024 - 31 March
  2025); the children's social work workforce census is the exception, its year is
  the census at 30 September of that year;
- a rate per 10,000 children for year ending 31 March *Y* divides the count by the
  ONS mid-year (*Y* - 1) estimate of children aged 0-17 and rounds half up, to one
  decimal place (children looked after: to a whole number);
- suppression and missing codes (``c``, ``x``, ``u``, ``z``, ``low``; LAIT's ``-``)
  are value states, never zeros (see :mod:`lscb_nb.core.values`).
"""

from __future__ import annotations

import logging

from lscb_nb.core.reference.authorities import (
    ENGLAND_CODE,
    ENGLAND_NAME,
    INNER_LONDON_CODE,
    INNER_LONDON_NAME,
    LOCAL_AUTHORITY,
    LONDON_AREA_CODES,
    LONDON_CODE,
    LONDON_NAME,
    LONDON_SUBREGIONS,
    NATIONAL,
    OUTER_LONDON_CODE,
    OUTER_LONDON_NAME,
    REGIONAL,
    aliases,
    authorities,
    authority_name,
    england_authorities,
    find_authority,
    find_in,
    name_key,
    spellings,
)
from lscb_nb.core.reference.dfe import (
    DFE_FILES,
    DFE_MEASURE_TITLES,
    PUBLISHED_COLUMNS,
    SSDA903_RATE_SUFFIX,
)
from lscb_nb.core.reference.lait import LAIT_DICTIONARY_FILE, LAIT_FILE, parse_year_label
from lscb_nb.core.reference.manifest import citation, sources, sources_markdown
from lscb_nb.core.reference.neighbours import statistical_neighbours
from lscb_nb.core.reference.population import population
from lscb_nb.core.reference.published import (
    DFE_SOURCES,
    SOURCES,
    published,
    published_for_items,
    unresolved_measures,
)
from lscb_nb.core.reference.rates import dfe_rate_per_10k, rate_per_10k
from lscb_nb.core.stats import round_half_up

log = logging.getLogger(__name__)

__all__ = [
    "DFE_FILES",
    "DFE_MEASURE_TITLES",
    "DFE_SOURCES",
    "ENGLAND_CODE",
    "ENGLAND_NAME",
    "INNER_LONDON_CODE",
    "INNER_LONDON_NAME",
    "LAIT_DICTIONARY_FILE",
    "LAIT_FILE",
    "LOCAL_AUTHORITY",
    "LONDON_AREA_CODES",
    "LONDON_CODE",
    "LONDON_NAME",
    "LONDON_SUBREGIONS",
    "NATIONAL",
    "OUTER_LONDON_CODE",
    "OUTER_LONDON_NAME",
    "PUBLISHED_COLUMNS",
    "REGIONAL",
    "SOURCES",
    "SSDA903_RATE_SUFFIX",
    "aliases",
    "authorities",
    "authority_name",
    "citation",
    "dfe_rate_per_10k",
    "england_authorities",
    "find_authority",
    "find_in",
    "name_key",
    "parse_year_label",
    "population",
    "published",
    "published_for_items",
    "rate_per_10k",
    "round_half_up",
    "sources",
    "sources_markdown",
    "spellings",
    "statistical_neighbours",
    "unresolved_measures",
]
