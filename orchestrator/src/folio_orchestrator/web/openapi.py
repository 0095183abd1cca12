"""The OpenAPI description of ``/api/v1`` (served at ``/api/v1/openapi.json``)."""

from __future__ import annotations

from typing import Any

from folio_orchestrator import __version__

EVENTS = ["token", "tool_call", "tool_result", "progress", "elicitation", "error", "done"]


def _error() -> dict[str, Any]:
    return {
        "description": "An error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def openapi_document() -> dict[str, Any]:
    cid = {"name": "cid", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
    errors = {str(code): _error() for code in (400, 401, 404, 413, 422, 429)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Folio",
            "version": __version__,
            "description": (
                "Talk to the owner's digital twin and use the fleet's tools. Without a bearer token you are a "
                "visitor (public audience, read-only tools); `folio tokens create` makes a token. A limited "
                "request gets 429 with Retry-After."
            ),
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
                            "required": ["status", "message"],
                        }
                    },
                    "required": ["error"],
                },
                "Event": {
                    "description": (
                        "One server-sent event: `event:` is the type, `data:` a JSON object. token {text}; "
                        "tool_call {id, name, arguments}; tool_result {id, name, server, tool, outcome, is_error, "
                        "seconds, content, images[{mime_type, data}]}; progress {call_id, progress, total, "
                        "message}; elicitation {id, server, mode, message, schema | url}; error {message}; "
                        "done {conversation, stopped, steps, text, tokens, cost_usd} (always last)."
                    ),
                    "type": "object",
                    "properties": {"event": {"enum": EVENTS}, "data": {"type": "object"}},
                },
            },
        },
        "security": [{}, {"bearer": []}],
        "paths": {
            "/api/v1/owner": {
                "get": {
                    "summary": "The owner's name and headline",
                    "responses": {"200": {"description": "name, headline"}},
                }
            },
            "/api/v1/resume": {
                "get": {
                    "summary": "The résumé as Markdown (for the audience)",
                    "responses": {"200": {"description": "text/markdown"}},
                }
            },
            "/api/v1/conversations": {
                "post": {
                    "summary": "Start a conversation",
                    "responses": {"201": {"description": "{id, audience, messages}"}, **errors},
                }
            },
            "/api/v1/conversations/{cid}": {
                "get": {
                    "summary": "Read a conversation (yours only)",
                    "parameters": [cid],
                    "responses": {"200": {"description": "messages and tool calls"}, **errors},
                }
            },
            "/api/v1/conversations/{cid}/messages": {
                "post": {
                    "summary": "Ask a question; the answer streams as server-sent events",
                    "parameters": [cid],
                    "requestBody": _json_body(
                        {
                            "type": "object",
                            "properties": {"content": {"type": "string", "maxLength": 8000}},
                            "required": ["content"],
                        }
                    ),
                    "responses": {
                        "200": {
                            "description": "text/event-stream of Event",
                            "content": {
                                "text/event-stream": {"schema": {"$ref": "#/components/schemas/Event"}}
                            },
                        },
                        "409": _error(),
                        **errors,
                    },
                }
            },
            "/api/v1/conversations/{cid}/elicitations/{eid}": {
                "post": {
                    "summary": "Answer a pending elicitation of the streaming turn",
                    "parameters": [
                        cid,
                        {"name": "eid", "in": "path", "required": True, "schema": {"type": "string"}},
                    ],
                    "requestBody": _json_body(
                        {
                            "type": "object",
                            "properties": {
                                "action": {"enum": ["accept", "decline", "cancel"]},
                                "content": {"type": "object"},
                            },
                            "required": ["action"],
                        }
                    ),
                    "responses": {"200": {"description": "{ok: true}"}, **errors},
                }
            },
            "/api/v1/tools": {
                "get": {
                    "summary": "The tools of your audience",
                    "responses": {"200": {"description": "{tools: [...]}"}},
                }
            },
            "/api/v1/tools/{name}": {
                "post": {
                    "summary": "Call a tool",
                    "parameters": [
                        {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "requestBody": _json_body(
                        {"type": "object", "properties": {"arguments": {"type": "object"}}}
                    ),
                    "responses": {
                        "200": {"description": "an MCP CallToolResult"},
                        "502": _error(),
                        "504": _error(),
                        **errors,
                    },
                }
            },
        },
    }
