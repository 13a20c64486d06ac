"""Phase 2, data model and instruments: the rating instruments, their ratings, the
agreement between raters and the pilot dataset. Imports the core and phase 1."""
