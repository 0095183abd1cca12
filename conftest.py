import os

# No test may reach a real model provider: the real adapters refuse while this is 0.
os.environ["FOLIO_ALLOW_MODEL_REQUESTS"] = "0"

pytest_plugins = ["folio_core.testing"]
