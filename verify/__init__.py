"""The public side: verification of tokens, URLs and card photos, lookups, live-code
checks, impersonation reports, public pages and the JSON API, and the offline
verifier client. Kept light: the offline client imports this package without Flask."""
