"""Public warnings: a confirmed impersonation report published, without its reporter,
so that every agency sees the impostor's identifiers (``/warnings``, its Atom feed,
and a link from every lookup of a warned identifier)."""
