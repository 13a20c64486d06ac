"""The service's pages in GOV.UK Frontend markup: the dashboard, upload and check,
versions, windows, the audit trail, benchmarking and the accessibility statement."""
