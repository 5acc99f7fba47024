"""The API's own pages: the OpenAPI document generated from the views, liveness and
readiness."""
