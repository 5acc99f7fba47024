"""Lookups (is this a Centre staff member, an official channel, a reported impostor?)
and the live-code check, as the home page and as the JSON API."""
