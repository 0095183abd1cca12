"""The deployment files: compose.yaml against the Compose specification's JSON schema (the copy
vendored in check-jsonschema, offline) plus Folio's own invariants, and the Dockerfile's shape."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import jsonschema
import pytest
import yaml

from folio_core.testing import REPO_ROOT

COMPOSE = REPO_ROOT / "compose.yaml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
PINNED = re.compile(r"^[a-z0-9./-]+:(?=[^:]*\d)[A-Za-z0-9._-]+(@sha256:[0-9a-f]{64})?$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def test_compose_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.validate(compose, schema)  # raises with the offending path
    broken = {
        **compose,
        "services": {**compose["services"], "db": {**compose["services"]["db"], "ports": 5432}},
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_every_service_is_healthchecked_pinned_and_loopback_only(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"db", "redis", "folio"}
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert PINNED.match(service["image"]), (
            f"{name}'s image {service['image']!r} is not pinned to a version"
        )
        assert "latest" not in service["image"]
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    assert services["db"]["image"].startswith("pgvector/pgvector:") and services["db"]["image"].endswith(
        "-pg16"
    )
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["db"]["volumes"])
    folio = services["folio"]
    assert folio["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    env = folio["environment"]
    assert env["FOLIO_DATABASE_URL"].startswith("postgresql://") and "@db:5432/" in env["FOLIO_DATABASE_URL"]
    assert env["FOLIO_REDIS_URL"] == "redis://redis:6379/0"
    assert "/readyz" in " ".join(folio["healthcheck"]["test"])
    assert folio["command"][:2] == ["folio", "serve"]
    assert any(v.startswith("./configs/portfolio:") and v.endswith(":ro") for v in folio["volumes"])
    # replicas: a port range, never one fixed host port (docker compose up --scale folio=N)
    assert all(re.match(r"^127\.0\.0\.1:\d+-\d+:8000$", p) for p in folio["ports"])
    assert "container_name" not in folio


def test_secrets_are_required_not_defaulted() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    assert re.search(r"POSTGRES_PASSWORD: \$\{FOLIO_DB_PASSWORD:\?", text)
    assert re.search(r"FOLIO_DATABASE_URL: postgresql://folio:\$\{FOLIO_DB_PASSWORD:\?", text)
    assert re.search(r"ANTHROPIC_API_KEY: \$\{ANTHROPIC_API_KEY\?", text)
    assert not re.search(r"(PASSWORD|API_KEY): (?!\$\{)", text), "a secret has a literal value"


def test_the_dockerfile_is_multi_stage_locked_slim_and_non_root() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    assert len(stages) >= 2
    images = [s.split()[0] for s in stages]
    assert all(PINNED.match(i) for i in images), images
    final = stages[-1]
    assert re.search(r"^USER (?!root)\w+", final, re.M)
    assert "--from=build /app/.venv" in final
    for tool in ("gcc", "build-essential", "uv sync", "pip install"):
        assert tool not in final, f"{tool} in the final stage"
    assert "uv sync --locked --no-dev --all-packages --no-editable" in stages[0]
    assert "COPY pyproject.toml uv.lock" in stages[0]
    assert "HEALTHCHECK" in final and "/healthz" in final
    assert (REPO_ROOT / "shared/src/folio_core/embeddings/model").is_dir()  # copied with folio_core
    ignored = (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".venv" in ignored and ".env" in ignored
