"""A hand-written handshake-era server (no SDK) that also writes garbage to stdout.

It prints a banner before the handshake, and a non-JSON line and a JSON line that is not
JSON-RPC before every tool result, as badly behaved servers do.
"""

import json
import sys

TOOL = {
    "name": "echo",
    "description": "Return the text.",
    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
}


def send(obj: object) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def garbage(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


garbage("Starting garbage server v1.0 ... ready!")
for line in sys.stdin:
    try:
        message = json.loads(line)
    except ValueError:
        continue
    method, ident = message.get("method"), message.get("id")
    if ident is None:
        continue  # notifications
    if method == "initialize":
        result = {
            "protocolVersion": "2025-06-18",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "garbage", "version": "1.0"},
        }
        send({"jsonrpc": "2.0", "id": ident, "result": result})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": ident, "result": {"tools": [TOOL]}})
    elif method == "tools/call":
        garbage("DEBUG: handling a call")
        garbage('{"not": "json-rpc"}')
        text = message["params"]["arguments"]["text"]
        send({"jsonrpc": "2.0", "id": ident, "result": {"content": [{"type": "text", "text": text}]}})
    else:
        send({"jsonrpc": "2.0", "id": ident, "error": {"code": -32601, "message": "Method not found"}})
