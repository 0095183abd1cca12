"""Estimated cost of a response, from a small price table in US dollars per million tokens.

The table holds list prices of a few current models at the time of writing; providers change them,
so treat the result as an estimate. Override or extend it by passing ``prices=`` to
:func:`make_model` / the adapters (a mapping of model name → :class:`Price`, merged over
:data:`DEFAULT_PRICES`).

Rules: a model on a local server (loopback or private address, see :func:`is_local_base_url`)
costs 0; a model not in the table costs ``None`` (unknown, not free). A dated snapshot
(``claude-sonnet-4-5-20250929``, ``gpt-4o-2024-08-06``) is priced as its undated alias.
Cached input tokens are billed at ``cached_input`` when the table gives it, else at ``input``;
cache writes are billed at ``input`` (Anthropic charges a little more: an approximation).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float
    cached_input: float | None = None


DEFAULT_PRICES: Mapping[str, Price] = {
    # Anthropic (https://www.anthropic.com/pricing)
    "claude-opus-4-7": Price(5.0, 25.0, 0.50),
    "claude-opus-4-6": Price(5.0, 25.0, 0.50),
    "claude-sonnet-4-6": Price(3.0, 15.0, 0.30),
    "claude-opus-4-5": Price(5.0, 25.0, 0.50),
    "claude-opus-4-1": Price(15.0, 75.0, 1.50),
    "claude-sonnet-4-5": Price(3.0, 15.0, 0.30),
    "claude-sonnet-4": Price(3.0, 15.0, 0.30),
    "claude-haiku-4-5": Price(1.0, 5.0, 0.10),
    "claude-3-5-haiku": Price(0.80, 4.0, 0.08),
    # OpenAI (https://openai.com/api/pricing)
    "gpt-5": Price(1.25, 10.0, 0.125),
    "gpt-5-mini": Price(0.25, 2.0, 0.025),
    "gpt-5-nano": Price(0.05, 0.40, 0.005),
    "gpt-4.1": Price(2.0, 8.0, 0.50),
    "gpt-4.1-mini": Price(0.40, 1.60, 0.10),
    "gpt-4.1-nano": Price(0.10, 0.40, 0.025),
    "gpt-4o": Price(2.50, 10.0, 1.25),
    "gpt-4o-mini": Price(0.15, 0.60, 0.075),
}

_DATED = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2})$")
_LOCAL_HOSTS = {"localhost", "host.docker.internal", "host.containers.internal"}


def undated(model: str) -> str:
    """``claude-sonnet-4-5-20250929`` → ``claude-sonnet-4-5``; ``gpt-4o-2024-08-06`` → ``gpt-4o``."""
    return _DATED.sub("", model)


def lookup_price(model: str, prices: Mapping[str, Price] | None = None) -> Price | None:
    table = {**DEFAULT_PRICES, **(prices or {})}
    return table.get(model) or table.get(undated(model))


def estimate_cost(
    model: str,
    *,
    input_tokens: int,
    output_tokens: int,
    cached_input_tokens: int = 0,
    local: bool = False,
    prices: Mapping[str, Price] | None = None,
) -> float | None:
    """Dollars for one response; 0 for a local server, ``None`` for a model not in the table."""
    if local:
        return 0.0
    price = lookup_price(model, prices)
    if price is None:
        return None
    cached = min(cached_input_tokens, input_tokens)
    cached_rate = price.cached_input if price.cached_input is not None else price.input
    dollars = (
        (input_tokens - cached) * price.input + cached * cached_rate + output_tokens * price.output
    ) / 1_000_000
    return round(dollars, 8)


def is_local_base_url(base_url: str | None) -> bool:
    """Whether ``base_url`` points at this machine or a private network (Ollama, vLLM, …)."""
    if not base_url:
        return False
    host = (urlsplit(base_url).hostname or "").lower()
    if host in _LOCAL_HOSTS or host.endswith((".local", ".localhost", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_unspecified or address.is_link_local
