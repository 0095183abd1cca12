"""Result shapes of the query tools (structured content; the text content is written for the model)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ColumnInfo(BaseModel):
    name: str
    type: str
    description: str = ""
    examples: list[Any] = Field(default_factory=list)


class ViewInfo(BaseModel):
    name: str
    description: str
    columns: list[ColumnInfo]


class SchemaResult(BaseModel):
    audience: Literal["owner", "public"]
    views: list[ViewInfo]
    rules: str = Field(description="What a query may and may not do.")
    functions: list[str] = Field(default_factory=list, description="The callable functions (allow-list).")


class ResultColumn(BaseModel):
    name: str
    type: str


class Verdict(BaseModel):
    accepted: bool
    rule: str | None = Field(default=None, description="The rule a refused statement hit.")
    message: str
    estimated_cost: float | None = None
    estimated_rows: float | None = None
    needs_confirmation: bool = False


class QueryResult(BaseModel):
    sql: str = Field(description="The statement that ran (normalised: one statement, no comments).")
    columns: list[ResultColumn]
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    truncated_by: Literal["rows", "bytes"] | None = None
    elapsed_ms: float
    estimated_cost: float | None = None
    estimated_rows: float | None = None
    confirmed: Literal["not-needed", "argument", "elicitation"] = "not-needed"


class ExplainResult(BaseModel):
    sql: str
    verdict: Verdict
    plan: Any | None = None


class AskResult(BaseModel):
    question: str
    status: Literal["answered", "write-sql"]
    sql: str | None = None
    attempts: int = 0
    result: QueryResult | None = None
    schema_context: str | None = Field(
        default=None, description="Without sampling: the layer's description, to write the SQL from."
    )
    message: str


class SaveResult(BaseModel):
    name: str
    uri: str
    sql: str
    created: bool
