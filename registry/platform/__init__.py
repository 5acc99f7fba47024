"""The only Flask glue of the service: engines and the request's session, the clock,
web set-up (i18n, rate limits, CSRF, security headers), the edge's error responses,
bounded form readers, the console's blueprint and the command-line kit. The rooms
(``registry.staff``, ``registry.credentials``, …) build on it; it builds on no room."""
