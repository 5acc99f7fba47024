"""The test suite's root: it only registers the fixture plugins (tests/fixtures/).

Test modules import what they build from ``factories`` and helpers from
``helpers_*``; nothing imports this file (tests/e2e/test_architecture.py checks it).
How the tests are organised: docs/testing.md.
"""

pytest_plugins = [
    "fixtures.database",
    "fixtures.clock",
    "fixtures.app",
    "fixtures.browser",
    "fixtures.fuzz",
]
