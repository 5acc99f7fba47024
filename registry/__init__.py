"""The Centre's side, one room per domain: staff, credentials (cards and status
lists), assignments (letters), accounts (the console's doors), channels, live codes,
signing keys, the audit log, the outbox, the console's frame and the demo. Each room
holds its models, services, console views and commands; ``platform`` is the Flask
glue they share, ``queries`` what the public side (``verify``) may read."""
