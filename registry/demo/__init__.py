"""Demo data for the embedded default (``flask --app app demo``)."""
