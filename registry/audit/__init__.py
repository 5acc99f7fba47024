"""The audit log: every change, from the console or the command line, appended to a
hash chain in the caller's transaction; its search and its check."""
