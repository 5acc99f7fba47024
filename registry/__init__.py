"""The Centre's side: staff, credentials and assignments, live-code secrets, QR and
card rendering, admin accounts, the audit log, the admin blueprint and the CLI."""
