"""The LLM tests run with real model requests disabled, as the whole suite should."""

from __future__ import annotations

import pytest

from folio_orchestrator.llm import ALLOW_MODEL_REQUESTS_ENV


@pytest.fixture(autouse=True)
def _no_real_model_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOW_MODEL_REQUESTS_ENV, "0")
    for name in (
        "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_BASE_URL",
        "FOLIO_MODEL",
    ):
        monkeypatch.delenv(name, raising=False)
