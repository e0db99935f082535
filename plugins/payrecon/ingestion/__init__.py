"""Settlement ingestion: gateway files in the inbox → validated lines, quarantine and a manifest.

`landing.land_window` is the entry point; one module per format under `formats/`.
"""
