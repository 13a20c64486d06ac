"""The final report, drawn from every phase's prepared data."""
