"""Backups of the whole database and their restore (``flask --app app backup|restore``)."""
