"""Phase 3, pilot and refine: quarterly returns, their completeness, timeliness and
quality, benchmarking and the refined dataset. Imports the core and earlier phases."""
