"""Model strings (``--model`` / ``FOLIO_MODEL``) and building models from them.

Forms::

    anthropic:<model>                  anthropic:claude-sonnet-4-6       key: ANTHROPIC_API_KEY
    openai:<model>                     openai:gpt-4.1-mini               key: OPENAI_API_KEY
    openai:<model>@<base-url>          openai:llama3.1:8b@http://localhost:11434/v1
                                       key: FOLIO_MODEL_API_KEY if set; a local URL needs none;
                                       a remote URL falls back to OPENAI_API_KEY
    test                               TestModel (offline; calls each read-only tool once)
    <claude-…> / <gpt-…> / <o3…>       the provider is inferred

A comma-separated list is an ordered fallback list:
``FOLIO_MODEL="anthropic:claude-sonnet-4-6,openai:gpt-4.1-mini"``.
``openai:<model>`` without ``@`` honours ``OPENAI_BASE_URL`` like the SDK does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import httpx2

from folio_orchestrator.llm._anthropic import ANTHROPIC_KEY_ENV, AnthropicModel
from folio_orchestrator.llm._base import ChatModel
from folio_orchestrator.llm._errors import ModelConfigError
from folio_orchestrator.llm._openai import COMPAT_KEY_ENV, OPENAI_BASE_URL, OPENAI_KEY_ENV, OpenAIModel
from folio_orchestrator.llm._pricing import Price, is_local_base_url
from folio_orchestrator.llm._resilience import FallbackModel, RetryingModel, RetryPolicy
from folio_orchestrator.llm._scripted import TestModel

MODEL_ENV = "FOLIO_MODEL"
DEFAULT_MODEL = "anthropic:claude-sonnet-4-6"

Provider = Literal["anthropic", "openai", "test"]
_PROVIDERS: tuple[Provider, ...] = ("anthropic", "openai", "test")


@dataclass(frozen=True)
class ModelSpec:
    provider: Provider
    model: str
    base_url: str | None = None

    def __str__(self) -> str:
        if self.provider == "test":
            return "test" if self.model == "test" else f"test:{self.model}"
        return f"{self.provider}:{self.model}" + (f"@{self.base_url}" if self.base_url else "")


def _infer_provider(name: str) -> Provider | None:
    if name.startswith("claude"):
        return "anthropic"
    if name.startswith(("gpt-", "o1", "o3", "o4", "chatgpt")):
        return "openai"
    return None


def parse_model_string(value: str) -> ModelSpec:
    """``provider:model[@base-url]`` → :class:`ModelSpec` (see the module docstring)."""
    text = value.strip()
    if not text:
        raise ModelConfigError("empty model string: write e.g. anthropic:claude-sonnet-4-6")
    if text == "test":
        return ModelSpec("test", "test")
    head, sep, rest = text.partition(":")
    if sep and head in _PROVIDERS:
        provider: Provider | None = head
        name = rest
    else:
        provider, name = _infer_provider(text), text
        if provider is None:
            raise ModelConfigError(
                f"cannot tell the provider of {value!r}: write anthropic:<model>, openai:<model> or "
                "openai:<model>@<base-url> (e.g. openai:llama3.1@http://localhost:11434/v1)"
            )
    assert provider is not None
    base_url: str | None = None
    at = name.rfind("@")
    if at >= 0 and name[at + 1 :].startswith(("http://", "https://")):
        name, base_url = name[:at], name[at + 1 :].rstrip("/")
    elif "@" in name and provider != "anthropic":
        raise ModelConfigError(
            f"{value!r}: the part after '@' must be a base URL starting with http:// or https://"
        )
    if not name:
        raise ModelConfigError(f"{value!r} names no model: write {provider}:<model>")
    if base_url is not None and provider != "openai":
        raise ModelConfigError(f"{value!r}: only openai:<model>@<base-url> takes a base URL")
    return ModelSpec(provider, name, base_url)


def parse_model_list(value: str | Sequence[str]) -> list[ModelSpec]:
    """A comma-separated string (or several strings) → the ordered fallback list."""
    items = [value] if isinstance(value, str) else list(value)
    specs = [parse_model_string(piece) for item in items for piece in item.split(",") if piece.strip()]
    if not specs:
        raise ModelConfigError("no model given: set FOLIO_MODEL or pass --model")
    return specs


def make_model(
    spec: str | ModelSpec | Sequence[str | ModelSpec] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    http_client: httpx2.AsyncClient | None = None,
    retry: RetryPolicy | None = None,
    prices: Mapping[str, Price] | None = None,
) -> ChatModel:
    """The model(s) named by ``spec`` (default: ``FOLIO_MODEL``, else :data:`DEFAULT_MODEL`).

    Each real model is wrapped in :class:`RetryingModel`; several become a :class:`FallbackModel`.
    Keys are read from ``env`` (default ``os.environ``); a missing key is reported on the first
    request (as :class:`ModelAuthError`), so a fallback list can skip that provider.
    """
    environ = os.environ if env is None else env
    if spec is None:
        spec = environ.get(MODEL_ENV) or DEFAULT_MODEL
    if isinstance(spec, str | ModelSpec):
        spec = [spec]
    specs: list[ModelSpec] = []
    for item in spec:
        specs.extend([item] if isinstance(item, ModelSpec) else parse_model_list(item))
    if not specs:
        raise ModelConfigError("no model given: set FOLIO_MODEL or pass --model")
    models = [_one(s, environ, http_client=http_client, retry=retry, prices=prices) for s in specs]
    return models[0] if len(models) == 1 else FallbackModel(models)


def _one(
    spec: ModelSpec,
    env: Mapping[str, str],
    *,
    http_client: httpx2.AsyncClient | None,
    retry: RetryPolicy | None,
    prices: Mapping[str, Price] | None,
) -> ChatModel:
    if spec.provider == "test":
        return TestModel(model_name=spec.model)
    if spec.provider == "anthropic":
        adapter: ChatModel = AnthropicModel(
            spec.model,
            api_key=env.get(ANTHROPIC_KEY_ENV) or None,
            base_url=env.get("ANTHROPIC_BASE_URL") or None,
            http_client=http_client,
            prices=prices,
        )
        return RetryingModel(adapter, retry)
    base_url = spec.base_url or env.get("OPENAI_BASE_URL") or None
    if base_url is None or base_url.rstrip("/") == OPENAI_BASE_URL:
        key, key_env = env.get(OPENAI_KEY_ENV) or None, OPENAI_KEY_ENV
    elif is_local_base_url(base_url):
        key, key_env = env.get(COMPAT_KEY_ENV) or None, COMPAT_KEY_ENV
    else:
        key = env.get(COMPAT_KEY_ENV) or env.get(OPENAI_KEY_ENV) or None
        key_env = COMPAT_KEY_ENV
    adapter = OpenAIModel(
        spec.model, api_key=key, base_url=base_url, key_env=key_env, http_client=http_client, prices=prices
    )
    return RetryingModel(adapter, retry)
