"""Plain-text rules for memories: validation, normalisation, near-duplicate safety, token estimates.

Near-duplicates are decided in two steps (see :func:`is_near_duplicate`): the normalised texts are
equal, or the cosine similarity of their vectors is at least :data:`DUPLICATE_COSINE` **and** the
two texts have the same content words. The second condition is what makes the rule safe: with
all-MiniLM-L6-v2, "Meeting with Anna on Tuesday" and "… on Wednesday" score 0.994 and
"salary is 95,000 euros" and "… 96,000 euros" 0.974, yet they are different memories; they differ
in a content word, so neither is taken for a copy of the other.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Literal, get_args

Kind = Literal["fact", "preference", "event", "note"]
KINDS: tuple[str, ...] = get_args(Kind)
MAX_CONTENT_CHARS = 10_000
MAX_TAGS = 20
MAX_TAG_CHARS = 50
DUPLICATE_COSINE = 0.95
"""Cosine similarity from which two memories with the same content words are one memory."""

_WORD = re.compile(r"[\w'’-]+", re.UNICODE)
# Function words only: negations, numbers, names and every other content word stay significant.
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "to",
        "of",
        "and",
        "or",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "from",
        "as",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "it's",
        "there",
        "here",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "about",
        "into",
        "onto",
        "over",
        "also",
        "just",
        "very",
        "really",
        "so",
        "than",
        "then",
    ]
)


# What a question says about *asking* rather than about its subject: question words, auxiliaries,
# pronouns and references to the person the memories are about. Recall drops them from the focused
# form of a query, so "How does she like to communicate?" is also searched as "like communicate".
_QUERY_NOISE = _STOPWORDS | frozenset(
    [
        "what",
        "what's",
        "which",
        "who",
        "who's",
        "whom",
        "whose",
        "when",
        "where",
        "where's",
        "why",
        "how",
        "how's",
        "i",
        "me",
        "my",
        "you",
        "your",
        "we",
        "us",
        "our",
        "they",
        "them",
        "their",
        "she",
        "she's",
        "her",
        "hers",
        "herself",
        "he",
        "he's",
        "him",
        "his",
        "himself",
        "owner",
        "owner's",
        "any",
        "some",
        "tell",
        "please",
        "if",
        "know",
    ]
)


def focus_query(query: str) -> str:
    """The words of ``query`` that name what is asked about, in order (the query itself if none).

    "How does she like to communicate?" becomes "like communicate" and "Is the owner a parent?"
    becomes "parent": the pronouns and question words would otherwise pull the query towards every
    memory that starts with "She ..." instead of towards its subject.
    """
    words = [w.strip("'’-") for w in _WORD.findall(unicodedata.normalize("NFKC", query))]
    kept = [w for w in words if w and w.casefold().replace("’", "'") not in _QUERY_NOISE]
    return " ".join(kept) if kept else query.strip()


def check_content(content: str) -> str:
    """The content stripped, or ``ValueError`` with what to do instead."""
    text = content.strip()
    if not text:
        raise ValueError("content is empty; pass the text to remember, e.g. 'Prefers dark mode in editors'")
    if len(text) > MAX_CONTENT_CHARS:
        raise ValueError(
            f"content is {len(text):,} characters, over the limit of {MAX_CONTENT_CHARS:,}; "
            "split it into several smaller memories (one fact each) or summarise it first"
        )
    return text


def check_kind(kind: str) -> Kind:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use one of: {', '.join(KINDS)}")
    return kind  # type: ignore[return-value]


def check_tags(tags: list[str] | None) -> list[str]:
    """Tags trimmed, lower-cased and de-duplicated (order kept)."""
    if not tags:
        return []
    cleaned = list(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))
    if len(cleaned) > MAX_TAGS:
        raise ValueError(f"{len(cleaned)} tags given; use at most {MAX_TAGS}")
    long = [t for t in cleaned if len(t) > MAX_TAG_CHARS]
    if long:
        raise ValueError(f"tag {long[0][:60]!r} is longer than {MAX_TAG_CHARS} characters; use short labels")
    return cleaned


def normalise(content: str) -> str:
    """Case, Unicode form, whitespace and trailing punctuation do not make a memory different."""
    text = unicodedata.normalize("NFKC", content).casefold()
    text = re.sub(r"\s+", " ", text).strip()
    return text.rstrip(" .!;,")


def content_hash(content: str) -> str:
    return hashlib.sha256(normalise(content).encode()).hexdigest()


def content_words(content: str) -> frozenset[str]:
    words = (w.strip("'’-").replace("’", "'") for w in _WORD.findall(normalise(content)))
    return frozenset(w for w in words if w and w not in _STOPWORDS)


def is_near_duplicate(new: str, existing: str, cosine: float) -> bool:
    """Whether ``new`` says nothing that ``existing`` does not (so it reinforces it)."""
    if normalise(new) == normalise(existing):
        return True
    return cosine >= DUPLICATE_COSINE and content_words(new) == content_words(existing)


def duplicate_key(content: str) -> int:
    """A signed 32-bit key that every possible near-duplicate of ``content`` shares.

    Two texts can only be near-duplicates when their content words are equal (normalised-equal
    texts have equal content words too), so a lock on this key serialises exactly the writes that
    could reinforce each other, and lets every other write run at once. Unrelated texts share a key
    only by a hash collision (1 in 2³²), which costs a short wait, never a wrong answer.
    """
    words = "\x1f".join(sorted(content_words(content)))
    return int.from_bytes(hashlib.sha256(words.encode()).digest()[:4], "big", signed=True)


def estimate_tokens(value: object) -> int:
    """A conservative token count of ``value`` as the client will see it (JSON, ~3.5 chars a token)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return max(1, -(-len(text) * 2 // 7))
