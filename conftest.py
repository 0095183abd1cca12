pytest_plugins = ["folio_core.testing"]
