"""MCP results as text for a terminal: structured content as indented JSON, other blocks readable."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import mcp_types as types


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def _blob_size(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except ValueError:
        return len(data)


def _block(block: Any) -> str:
    kind = getattr(block, "type", None)
    if kind == "text":
        return str(block.text)
    if kind in ("image", "audio"):
        return f"[{kind} {block.mime_type}, {_blob_size(block.data)} bytes]"
    if kind == "resource_link":
        return (
            f"[resource link: {block.uri}"
            + (f" — {block.name}" if getattr(block, "name", None) else "")
            + "]"
        )
    if kind == "resource":
        return _embedded(block.resource)
    return pretty_json(block.model_dump(mode="json", by_alias=True, exclude_none=True))


def _embedded(resource: Any) -> str:
    """An embedded resource: marked with its URI, so it does not read as the tool's own words."""
    text = getattr(resource, "text", None)
    if text is None:
        return render_resource_contents([resource])
    mime = f", {resource.mime_type}" if getattr(resource, "mime_type", None) else ""
    return f"[resource {resource.uri}{mime}]\n{text}"


def render_content(result: types.CallToolResult) -> str:
    """A tool result: its structured content pretty-printed when there is some, else its blocks."""
    if result.structured_content is not None and not result.is_error:
        return pretty_json(result.structured_content)
    return "\n".join(_block(b) for b in result.content)


def render_resource_contents(contents: Sequence[Any]) -> str:
    parts = []
    for item in contents:
        text = getattr(item, "text", None)
        if text is not None:
            parts.append(text)
        else:
            parts.append(
                f"[blob {item.mime_type or 'application/octet-stream'}, {_blob_size(item.blob)} bytes: {item.uri}]"
            )
    return "\n".join(parts)


def render_resource(result: types.ReadResourceResult) -> str:
    return render_resource_contents(result.contents)


def render_prompt(result: types.GetPromptResult) -> str:
    lines = [f"# {result.description}", ""] if result.description else []
    for message in result.messages:
        lines.append(f"[{message.role}]")
        lines.append(_block(message.content))
        lines.append("")
    return "\n".join(lines).rstrip()


def dump(model: Any) -> Any:
    """A pydantic model as the JSON the wire carried: camelCase, and only the fields the peer sent
    (no defaults filled in, such as ``isError`` or ``resultType`` from a handshake-era server)."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)
