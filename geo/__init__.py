"""Geospatial domain of Beatplan: reports, privacy, streets, hotspots, evaluation and storage."""
