"""The core every phase stands on: the project, periods and values, file input and
output, reference data, the data model, rules, statistics, agreement, disclosure and
the display helpers reports share. Nothing here imports a phase or the output layer."""
