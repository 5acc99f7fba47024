"""Impersonation reports: what an officer sends (checked, then stored with its
evidence under quotas, a reference given at once), the identifiers that confirmed
reports make lookups answer ``reported_impostor`` for, triage in the console and on
the command line, the dashboard, and the CSV export."""
