"""Collection: windows per period, immutable submission versions, their cells and issues."""
