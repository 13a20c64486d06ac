"""Phase 1, mapping: read the datasets boroughs keep, harmonise their names to the
data model, and collate the draft dataset. Imports the core only."""
