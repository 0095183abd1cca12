"""A server for the web service's tests: a read-only lookup, a tool that changes something, a chart,
progress, and a form (elicitation through a resolver, so both protocol eras can ask)."""

import base64
import os
from typing import Annotated

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import AcceptedElicitation, Elicit, ElicitationResult, Resolve, Sample
from mcp.types import CreateMessageResult, ImageContent, SamplingMessage, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

mcp = MCPServer("webtest", version="0.0.1")
READ_ONLY = ToolAnnotations(read_only_hint=True)
# a 1x1 PNG
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d49444154789c6360f8cfc0f01f0005000201ec2b2f5c0000000049454e44ae426082"
    )
).decode()


@mcp.tool(annotations=READ_ONLY)
async def lookup(topic: str) -> str:
    """Look a topic up in the owner's notes."""
    audience = os.environ.get("FOLIO_AUDIENCE", "unset")
    return f"notes on {topic} (audience {audience})"


@mcp.tool()
async def forget_everything() -> str:
    """Delete the owner's notes (changes data: not for visitors)."""
    return "forgotten"


@mcp.tool(annotations=READ_ONLY, structured_output=False)
async def chart() -> list[TextContent | ImageContent]:
    """A chart of the owner's skills."""
    return [
        TextContent(type="text", text="skills chart"),
        ImageContent(type="image", data=PIXEL, mime_type="image/png"),
    ]


@mcp.tool(annotations=READ_ONLY)
async def steps(count: int, ctx: Context) -> str:
    """Work in ``count`` steps, reporting progress."""
    for i in range(1, count + 1):
        await ctx.report_progress(i, count, f"step {i}")
    return f"did {count} steps"


class Contact(BaseModel):
    name: str = Field(description="Your name")
    role: str = Field(
        default="recruiter", description="Who you are", json_schema_extra={"enum": ["recruiter", "engineer"]}
    )
    newsletter: bool = False


async def ask_contact(ctx: Context) -> Elicit[Contact]:
    return Elicit("Who is asking?", Contact)


@mcp.tool(annotations=READ_ONLY)
async def introduce(answer: Annotated[ElicitationResult[Contact], Resolve(ask_contact)]) -> str:
    """Ask the visitor who they are."""
    if isinstance(answer, AcceptedElicitation):
        return f"hello {answer.data.name}, {answer.data.role}"
    return f"no introduction ({answer.action})"


async def ask_model(topic: str) -> Sample:
    return Sample(
        [SamplingMessage(role="user", content=TextContent(type="text", text=f"one line on {topic}"))],
        max_tokens=50,
    )


@mcp.tool(annotations=READ_ONLY)
async def summarise(topic: str, answer: Annotated[CreateMessageResult, Resolve(ask_model)]) -> str:
    """Summarise a topic with the client's model (sampling)."""
    content = answer.content
    return getattr(content, "text", "?")


@mcp.resource("webtest://about", mime_type="text/plain")
def about() -> str:
    """About this server."""
    return "a test server"


@mcp.prompt()
def greet(name: str) -> str:
    """Greet someone."""
    return f"Say hello to {name}."


if __name__ == "__main__":
    mcp.run()
