"""The online collection and benchmarking service: a Django project inside the
package where each partnership's agencies upload, check and sign off their returns
through the toolkit's own reader and rules, and see where their figures stand.

One app per concern, after the US Federal Audit Clearinghouse and the TANF data
portal: ``accounts`` (users, memberships, API tokens), ``collection`` (windows,
immutable submission versions, cells, issues, explanations), ``audit`` (append-only
events) and ``api``. ``lscb-nb serve`` runs it; ``lscb-nb service ...`` manages it.
"""
