"""Job fit without an LLM: requirements from a job posting, scored against résumé evidence.

The server's flow::

    check_description(text)                  # ValueError with a message for the user
    requirements = extract_requirements(text)
    overview = skills_overview(resume)       # folio_profile.render
    fits = [assess(r, search(r.text), overview.skill_keywords(), overview.years_by_keyword())
            for r in requirements]
    job = summarise_fit(fits)                # then optionally narrative_prompt(job, name) → LLM

Requirement extraction heuristics (all deterministic):

* Lines are headings (Markdown ``#``, a line that is only bold text, a short line ending in ``:``,
  or a line that is exactly a usual section title such as "Nice to have"), bullets (``-``, ``*``,
  ``•``, ``1.``, ``a)`` …; a next line starting in lower case continues the bullet) or prose (split
  into sentences). ``Nice to have: Rust.`` is a heading whose context applies to that line only.
* Headings set the context: *must* (Requirements, Qualifications, What you bring, About you, …),
  *nice* (Nice to have, Bonus, Preferred, Pluses, …), *duties* (Responsibilities, What you'll do,
  The role, …), *boilerplate* (About us, Benefits, Perks, Compensation, Equal opportunity, How to
  apply, Location, …) or *other* (anything else, and text before the first heading).
* Boilerplate sections are dropped, and so is any statement that reads like boilerplate wherever it
  is (EEO wording, salary and currency amounts, benefits, application instructions, company blurb
  such as "We are a …").
* Must/nice sections keep every statement. Duties and other text keep only statements with a
  requirement cue ("experience", "years", "proficient", "degree", "you have", "must", …). When the
  posting has explicit requirement sections, duties are ignored altogether (they describe the job,
  not the bar) and other text needs a strong cue ("5+ years", "experience with", "you have", "must",
  "required", "degree in").
* Importance is "nice" under a nice heading, or when the wording says so ("preferred", "a plus",
  "bonus", "ideally", "nice to have", …); otherwise "must".
* Years come from "5+ years", "3-5 years" (the lower bound), "at least five years", "3 or more years".
* Duplicates (same words, case and punctuation ignored) are merged, keeping "must" if either was.
  At most 40 requirements are kept (must-haves first), in posting order.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Sequence
from typing import Final, Literal

from folio_profile.models import (
    MAX_DESCRIPTION_CHARS,
    TOTAL_YEARS_KEY,
    Importance,
    JobFit,
    Requirement,
    RequirementFit,
    SearchHit,
    Verdict,
)

__all__ = [
    "MAX_DESCRIPTION_CHARS",
    "MAX_REQUIREMENTS",
    "PARTIAL_THRESHOLD",
    "STRONG_THRESHOLD",
    "assess",
    "check_description",
    "display_term",
    "extract_requirements",
    "narrative_prompt",
    "summarise_fit",
    "tech_terms",
    "term_groups",
    "term_pattern",
    "verdict_for",
]

MAX_REQUIREMENTS: Final = 40
MAX_REQUIREMENT_CHARS: Final = 300
STRONG_THRESHOLD: Final = 0.75
PARTIAL_THRESHOLD: Final = 0.45
MAX_EVIDENCE: Final = 3
MAX_STRENGTHS: Final = 5

# weights of the score: semantic evidence vs exact keyword coverage (when the requirement names terms)
SEMANTIC_WEIGHT: Final = 0.55
KEYWORD_WEIGHT: Final = 0.45

Context = Literal["must", "nice", "duties", "boiler", "other"]


# --------------------------------------------------------------------------- term matching


def term_pattern(term: str) -> re.Pattern[str]:
    """A regex finding ``term`` as a whole word or phrase in text.

    Case-insensitive, except for short all-letter terms (≤ 3 characters) containing a capital (``Go``,
    ``AWS``, ``R``), which must match as written to avoid English words. Spaces and hyphens are
    interchangeable and a trailing plural ``s`` is optional (``SLOs`` finds "SLO", ``RFC`` finds "RFCs").
    """
    term = " ".join(term.split())
    if len(term) > 3 and term.endswith("s") and term[-2:-1].isalpha():
        core, plural = re.escape(term[:-1]), "s?"
    else:
        core, plural = re.escape(term), ("(?:e?s)?" if term[-1:].isalpha() else "")
    core = core.replace(r"\-", r"[\s\-]*").replace(r"\ ", r"[\s\-]+")
    case_sensitive = len(term) <= 3 and term.isalpha() and any(ch.isupper() for ch in term)
    return re.compile(rf"(?<![\w.+#-]){core}{plural}(?![\w+#]|\.\w)", 0 if case_sensitive else re.IGNORECASE)


# Well-known technology terms, in their usual spelling. Short capitalised ones match case-sensitively.
_TECH_LEXICON: Final[tuple[str, ...]] = (
    "Python", "Go", "Golang", "Rust", "Java", "Kotlin", "Scala", "TypeScript", "JavaScript", "Ruby",
    "PHP", "C++", "C#", "Elixir", "Erlang", "Haskell", "Swift", "SQL", "Bash", "WebAssembly",
    "Kubernetes", "K8s", "Docker", "Helm", "Terraform", "Pulumi", "Ansible", "Argo CD", "ArgoCD",
    "Flux", "Jenkins", "GitHub Actions", "GitLab CI", "CircleCI", "AWS", "GCP", "Azure", "EC2", "S3",
    "EKS", "GKE", "AKS", "Lambda", "CloudFormation", "Kafka", "RabbitMQ", "Pulsar", "Kinesis", "Flink",
    "Spark", "Airflow", "Dagster", "Prefect", "dbt", "Snowflake", "BigQuery", "Redshift", "Databricks",
    "Postgres", "PostgreSQL", "MySQL", "MongoDB", "Cassandra", "DynamoDB", "Redis", "Elasticsearch",
    "OpenSearch", "ClickHouse", "SQLite", "pgvector", "Prometheus", "Grafana", "Datadog",
    "OpenTelemetry", "Jaeger", "Splunk", "PyTorch", "TensorFlow", "JAX", "scikit-learn", "pandas",
    "NumPy", "MLflow", "Kubeflow", "Ray", "Hugging Face", "LLM", "RAG", "React", "Vue", "Angular",
    "Node.js", "Django", "Flask", "FastAPI", "Spring", "Rails", "gRPC", "GraphQL", "Protocol Buffers",
    "Linux", "Istio", "Envoy", "Nginx", "Vault", "Consul", "Nomad", "Backstage", "CI/CD", "ETL", "ELT",
    "MLOps", "DevOps", "SRE", "microservices", "serverless", "event-driven", "data modelling",
    "data modeling", "feature store", "model serving", "infrastructure as code", "observability",
)  # fmt: skip

_ALIASES: Final = {
    "postgres": "postgresql",
    "golang": "go",
    "k8s": "kubernetes",
    "argocd": "argo cd",
    "argo-cd": "argo cd",
    "sklearn": "scikit-learn",
    "node": "node.js",
    "nodejs": "node.js",
    "data modeling": "data modelling",
    "feature stores": "feature store",
    "protobuf": "protocol buffers",
}

# acronyms that look technical but are not
_NOT_TECH: Final = frozenset(
    {
        "US", "USA", "EU", "UK", "EEO", "EEOC", "CV", "BS", "BA", "MS", "MSC", "BSC", "PHD", "MBA", "HR",
        "IT", "OR", "AND", "TO", "OK", "CEO", "CTO", "CFO", "VP", "GPA", "FTE", "PTO", "CET", "UTC", "EST",
        "PST", "CEST", "NL", "DE", "FR", "EN", "A", "I", "IF", "IN", "ON", "AT", "OF", "THE", "WE", "YOU",
        "OUR", "CS", "CE", "EE", "MA",
    }
)  # fmt: skip

_TOKEN_PATTERNS: Final = (
    re.compile(r"(?<![\w.])[A-Za-z][a-z0-9]+[A-Z][A-Za-z0-9]*(?![\w])"),  # CamelCase: PostgreSQL, TypeScript
    re.compile(r"(?<![\w.])[A-Za-z][A-Za-z0-9]*\.(?:js|ts|io|NET|net|py)(?![\w])"),  # Node.js, ASP.NET
    re.compile(r"(?<![\w.])[A-Za-z]+(?:\+\+|#)"),  # C++, C#, F#
    re.compile(r"(?<![\w.])[A-Z][A-Z0-9]{1,5}(?:/[A-Z]{2,5})?(?![\w])"),  # AWS, GCP, CI/CD, S3
)


def _canon(term: str) -> str:
    key = " ".join(term.lower().split())
    return _ALIASES.get(key, key)


@functools.cache
def _lexicon_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Compiled on first use: a stdio server should not compile them before its handshake."""
    return tuple((term, term_pattern(term)) for term in _TECH_LEXICON)


_LEXICON_BY_LOWER: Final = {term.lower(): term for term in _TECH_LEXICON}


def display_term(term: str) -> str:
    """The usual spelling of a term when the lexicon knows it (``go`` → ``Go``), else the term itself."""
    return _LEXICON_BY_LOWER.get(term.lower(), term)


def _is_tech_token(token: str) -> bool:
    return not all(part.upper() in _NOT_TECH for part in token.split("/"))


def _term_spans(text: str, known: Iterable[str]) -> list[tuple[int, int]]:
    candidates: list[re.Pattern[str]] = [term_pattern(display_term(k)) for k in known if k.strip()]
    candidates += [pattern for _, pattern in _lexicon_patterns()]
    spans: list[tuple[int, int]] = []
    for pattern in candidates:
        match = pattern.search(text)
        if match:
            spans.append(match.span())
    for shape in _TOKEN_PATTERNS:
        for match in shape.finditer(text):
            if _is_tech_token(match.group(0)):
                spans.append(match.span())
    # longest spans first, so that shorter terms inside them can be discarded
    spans.sort(key=lambda span: (-(span[1] - span[0]), span[0]))
    taken: list[tuple[int, int]] = []
    seen: set[str] = set()
    for start, end in spans:
        key = _canon(text[start:end])
        if key in seen or any(s <= start and end <= e for s, e in taken):
            continue
        taken.append((start, end))
        seen.add(key)
    return sorted(taken)


def tech_terms(text: str, known: Iterable[str] = ()) -> list[str]:
    """Technology terms named in ``text``, as written there, in order of appearance.

    Sources: ``known`` terms (e.g. the résumé's lower-cased skill keywords; a known term the lexicon
    spells with capitals, like ``go`` → ``Go``, is matched in that spelling), a built-in lexicon of
    common technologies, and token shapes that are almost always technical (CamelCase, ``x.js``,
    ``C++``, all-caps acronyms other than degrees, places and time zones). Terms are de-duplicated
    through aliases (``Postgres`` = ``PostgreSQL``, ``k8s`` = ``Kubernetes``), and a term inside a
    longer found term is dropped (``GitHub`` when ``GitHub Actions`` is there).
    """
    return [text[start:end] for start, end in _term_spans(text, known)]


_LIST_SEPARATOR = re.compile(r"\s*,?\s*(?:/|\band/or\b|\bor\b|\band\b)?\s*", re.IGNORECASE)
_AND = re.compile(r"\band\b(?!/)", re.IGNORECASE)
_OR = re.compile(r"/|\bor\b", re.IGNORECASE)
_TRAILING_OR = re.compile(r"\s*,?\s*(?:or|and/or)\b", re.IGNORECASE)


def _group_run(text: str, run: list[tuple[int, int]]) -> list[list[str]]:
    """Alternative groups of one run of listed terms (see :func:`term_groups`)."""
    seps = [text[a[1] : b[0]] for a, b in itertools.pairwise(run)]
    terms = [text[start:end] for start, end in run]
    groups: list[list[str]] = []
    segment = [terms[0]]
    segment_seps: list[str] = []

    def close(trailing_or: bool) -> None:
        if (segment_seps and _OR.search(segment_seps[-1])) or (len(segment) > 1 and trailing_or):
            groups.append(list(segment))  # "A, B or C": one set of alternatives
            return
        current = [segment[0]]
        for sep, term in zip(segment_seps, segment[1:], strict=True):
            if _OR.search(sep):
                current.append(term)
            else:
                groups.append(current)
                current = [term]
        groups.append(current)

    for sep, term in zip(seps, terms[1:], strict=True):
        if _AND.search(sep) and not _OR.search(sep):
            close(trailing_or=False)
            segment, segment_seps = [term], []
        else:
            segment.append(term)
            segment_seps.append(sep)
    close(trailing_or=_TRAILING_OR.match(text, run[-1][1]) is not None)
    return groups


def term_groups(text: str, known: Iterable[str] = ()) -> list[list[str]]:
    """:func:`tech_terms` grouped into alternatives, each group met by any one of its terms.

    "Go or Python" and "Python/Go" are one group of two; "Kubernetes and Terraform" and "Spark, Airflow,
    and dbt" are one group per term; "MLflow, Kubeflow or a similar tool" and "Kafka, Pulsar, or Kinesis"
    are one group (a comma list whose last link, or what follows it, is "or").
    """
    spans = _term_spans(text, known)
    runs: list[list[tuple[int, int]]] = []
    for span in spans:
        if runs and _LIST_SEPARATOR.fullmatch(text[runs[-1][-1][1] : span[0]]):
            runs[-1].append(span)
        else:
            runs.append([span])
    return [group for run in runs for group in _group_run(text, run)]


# --------------------------------------------------------------------------- description checks


def check_description(description: str) -> None:
    """Raise ``ValueError`` with a user-facing message when the description is empty or too long."""
    text = description.strip()
    if not text:
        raise ValueError(
            "The job description is empty. Paste the text of the job posting "
            "(at least its requirements or qualifications section)."
        )
    if len(text) > MAX_DESCRIPTION_CHARS:
        raise ValueError(
            f"The job description is {len(text):,} characters long; the limit is "
            f"{MAX_DESCRIPTION_CHARS:,}. Paste only the requirements / qualifications section of the posting."
        )


# --------------------------------------------------------------------------- extraction

_NICE_HEADING = re.compile(
    r"nice[\s-]*to[\s-]*have|\bbonus|\bpreferred|\bpluses\b|\bplus\b|desirable|extra credit|good to have"
    r"|would be (?:great|nice)|\bideally\b|stand out|not required|\boptional\b|\bwishlist\b"
)
_MUST_HEADING = re.compile(
    r"requirement|qualification|must[\s-]*have|\brequired\b|what you(?:'ll| will)? (?:bring|need|have)"
    r"|you(?:'ll| will)? (?:have|bring|need)|about you|who you are|looking for|your (?:profile|background"
    r"|experience|skills)|\bprofile\b|\bskills\b|experience|essential|competenc|ideal candidate"
    r"|you should|to be successful|what we need|what it takes|\bmust\b|\bknowledge\b"
)
_DUTIES_HEADING = re.compile(
    r"responsibilit|what you(?:'ll| will) (?:do|be doing|work on|achieve)|\byou will\b|the role|\brole\b"
    r"|day[\s-]*to[\s-]*day|duties|your (?:mission|impact|work|day)|in this (?:role|position)"
    r"|the (?:job|work|opportunity|position)|\btasks\b|what you'll do"
)
_BOILER_HEADING = re.compile(
    r"^about\b|who we are|\bour (?:company|story|mission|values|culture|team|benefits|offer)|benefit|perks"
    r"|what we offer|we offer|compensation|salary|\bpay\b|equal|\beeo\b|diversity|inclusion|how to apply"
    r"|\bapply\b|application process|why (?:join|work)|life at|working at|the company|location|logistics"
    r"|interview|hiring process|recruitment|what's in it|package|disclaimer|privacy|\bnote\b"
)

_BOILER_ITEM = re.compile(
    r"equal (?:opportunit|employment)|affirmative action|regardless of|without regard to|race, colou?r"
    r"|sexual orientation|gender identity|veteran|protected (?:class|characteristic)|reasonable accommodation"
    r"|\bsalary|\bcompensation\b|base pay|pay (?:range|band)|bonus (?:scheme|plan)|stock option|\brsus?\b"
    r"|401\s?\(?k\)?|\bpension|health (?:insurance|care|plan)|healthcare|\bdental\b"
    r"|vision (?:insurance|coverage)"
    r"|paid time off|\bpto\b|parental leave|vacation days|\bholidays?\b|wellness|wellbeing|stipend|allowance"
    r"|\bgym\b|\blunch|\bsnacks\b|learning budget|[$€£]\s?\d|\d\s?(?:eur|usd|gbp)\b|per (?:year|annum)"
    r"|\bapply (?:now|today|here|via|by|through|anyway|even if)|\bto apply\b|how to apply"
    r"|submit (?:your|an?) (?:cv|resume|application)|send (?:us )?your (?:cv|resume)"
    r"|recruit(?:ment|ing)? agenc"
    r"|\bno recruiters\b|visa sponsorship|relocation (?:package|support)|^we(?: are|'re) an?\b|our mission"
    r"|our values|founded in|backed by|series [a-e]\b|headquartered|privacy (?:notice|policy|statement)"
    r"|\bcookies?\b|join (?:us|our team)|we(?:'d| would) love to (?:hear|meet)"
)

_NICE_WORDING = re.compile(
    r"\bpreferred\b|\bpreferably\b|\bbonus\b|nice[\s-]*to[\s-]*have|\ba plus\b|\bplus if\b|\bdesirable\b"
    r"|\bideally\b|\badvantageous\b|\bgood to have\b|\bnot (?:strictly )?required\b|\boptional\b"
    r"|would be (?:great|nice|a bonus)|\bhelpful\b|\bappreciated\b|\bis an advantage\b"
)

_REQUIREMENT_CUE = re.compile(
    r"\bexperience|\byears?\b|\byrs\b|proficien|knowledge of|familiar|understanding of|expertise|expert in"
    r"|background in|\bdegree\b|bachelor|master'?s|\bph\.?d|\bmust\b|\bshould\b|\brequired\b|ability to"
    r"|able to|comfortable|fluent|fluency|\bstrong\b|\bsolid\b|\bproven\b|track record|hands-on"
    r"|\byou have\b|\byou are\b|\byou're\b|\byou bring\b|\bskills?\b|certif|preferred|a plus|nice to have"
    r"|\bbonus\b"
)

_PLAIN_HEADING = re.compile(
    r"(?:(?:minimum|basic|preferred|required|desired|additional|key|technical|core) )?"
    r"(?:requirements|qualifications|skills(?: (?:and|&) (?:experience|qualifications))?|experience)"
    r"|nice[\s-]*to[\s-]*haves?|bonus(?: points)?|pluses|preferred|desirable|extra credit|good to have"
    r"|must[\s-]*haves?|what (?:you(?:'ll| will)? (?:bring|need|do|have|be doing)|we(?:'re| are) looking for"
    r"|we offer|we need)|about (?:you|us|the role|the team|the company|the job|[\w&.' -]{1,30})"
    r"|who (?:you are|we are)|you have|your profile|the (?:role|team|job|opportunity|position)"
    r"|(?:key |your |main )?responsibilities|duties|day[\s-]*to[\s-]*day|in this role"
    r"|benefits(?: (?:and|&) perks)?|perks(?: (?:and|&) benefits)?|compensation(?: (?:and|&) benefits)?"
    r"|salary|location|how to apply|equal (?:opportunity|employment)(?: employer)?|why join us"
    r"|why (?:work|join) (?:with |at )?[\w .'-]{1,30}|life at [\w .'-]{1,30}"
    r"|our (?:values|mission|culture|stack|tech stack|team)|tech stack",
    re.IGNORECASE,
)
_STRONG_CUE = re.compile(
    r"\b\d{1,2}\s*\+?\s*(?:years?|yrs)|experience (?:with|in|of|building|running|designing|leading)"
    r"|\byou (?:have|bring|must|should)\b|\bmust\b|\brequired\b|proficien|degree in"
)
_BULLET = re.compile(r"^(?:[-*•·●▪◦‣–—+]|\(?\d{1,2}[.)]|\(?[a-zA-Z]\))\s+(?:\[[ xX]\]\s+)?(?P<text>.+)$")
_MD_HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)\s*#*$")
_BOLD_LINE = re.compile(r"^(\*\*|__)(?P<text>[^*_]+?)\1\s*:?$")
_INLINE_HEADING = re.compile(r"^(?P<head>[^:]{3,40}):\s+(?P<rest>\S.*)$")

_ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|etc|vs|incl|approx|esp|a\.k\.a|cf)\.", re.IGNORECASE)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'“])")
_DOT_PLACEHOLDER = "\u2024"

_NUMBER_WORDS: Final = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
}  # fmt: skip
_NUMBER = r"\d{1,2}|" + "|".join(_NUMBER_WORDS)
_YEARS = re.compile(
    rf"\b(?P<n>{_NUMBER})\s*(?:\+|plus|or more)?\s*"
    rf"(?:(?:-|–|to|or)\s*(?:{_NUMBER})\s*\+?\s*)?(?:years?|yrs?)\b",
    re.IGNORECASE,
)


def _parse_years(text: str) -> int | None:
    match = _YEARS.search(text)
    if match is None:
        return None
    raw = match.group("n").lower()
    years = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
    return years if 0 < years <= 40 else None


def _normalise_line(line: str) -> str:
    line = line.replace("\u2019", "'").replace("\u00a0", " ").replace("\t", " ").strip()
    return " ".join(line.split())


_HEADING_RULES: Final[tuple[tuple[Context, re.Pattern[str]], ...]] = (
    ("nice", _NICE_HEADING),
    ("must", _MUST_HEADING),
    ("duties", _DUTIES_HEADING),
    ("boiler", _BOILER_HEADING),
)


def _classify_heading(text: str) -> Context:
    lowered = text.lower().strip(" :*_#")
    for context, pattern in _HEADING_RULES:
        if pattern.search(lowered):
            return context
    return "other"


def _heading_text(line: str) -> str | None:
    """The heading's text when ``line`` is a heading, else None.

    Marked headings (Markdown ``#``, a bold-only line, a short line ending in ``:``) may say anything;
    an unmarked line is a heading only when it is one of the usual section titles in full.
    """
    if match := _MD_HEADING.match(line):
        return match.group("text").strip(" *_:")
    if match := _BOLD_LINE.match(line):
        return match.group("text").strip(" :")
    if _BULLET.match(line):
        return None
    if line.endswith(":") and len(line) <= 80 and len(line.split()) <= 10:
        return line.rstrip(":").strip(" *_")
    bare = line.strip(" *_!")
    if len(bare) <= 60 and _PLAIN_HEADING.fullmatch(bare):
        return bare
    if len(bare) <= 40 and bare.isupper() and any(ch.isalpha() for ch in bare):
        return bare
    return None


def _sentences(paragraph: str) -> list[str]:
    protected = _ABBREVIATIONS.sub(lambda m: m.group(0).replace(".", _DOT_PLACEHOLDER), paragraph)
    return [part.replace(_DOT_PLACEHOLDER, ".") for part in _SENTENCE_SPLIT.split(protected) if part.strip()]


def _clean_item(text: str) -> str:
    text = text.replace("**", "").replace("__", "")
    text = " ".join(text.split()).strip(" ;,-–—")
    if len(text) > MAX_REQUIREMENT_CHARS:
        cut = text[: MAX_REQUIREMENT_CHARS - 1].rsplit(" ", 1)[0]
        text = cut.rstrip(" ,;:") + "…"
    return text


def _items(description: str) -> list[tuple[Context, str]]:
    """Statements of the description with the context of the section they appear in."""
    items: list[tuple[Context, str]] = []
    context: Context = "other"
    paragraph: list[str] = []
    last_was_bullet = False

    def flush() -> None:
        if paragraph:
            items.extend((context, sentence) for sentence in _sentences(" ".join(paragraph)))
            paragraph.clear()

    for raw in description.splitlines():
        line = _normalise_line(raw)
        if not line:
            flush()
            last_was_bullet = False
            continue
        heading = _heading_text(line)
        if heading is not None:
            flush()
            context = _classify_heading(heading)
            last_was_bullet = False
            continue
        bullet = _BULLET.match(line)
        if bullet:
            flush()
            items.append((context, bullet.group("text")))
            last_was_bullet = True
            continue
        # "Nice to have: Rust." — a heading and its statement on one line; the context applies to it only
        inline = _INLINE_HEADING.match(line.replace("**", "").replace("__", ""))
        if inline and _classify_heading(inline.group("head")) != "other":
            flush()
            inline_context = _classify_heading(inline.group("head"))
            items.extend((inline_context, sentence) for sentence in _sentences(inline.group("rest")))
            last_was_bullet = False
            continue
        if last_was_bullet and line[:1].islower() and items:
            previous_context, previous = items[-1]
            items[-1] = (previous_context, f"{previous} {line}")
            continue
        paragraph.append(line)
        last_was_bullet = False
    flush()
    return items


def _dedupe_key(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9+#]+", " ", text.lower()).split())


def extract_requirements(description: str) -> list[Requirement]:
    """Requirement statements of a free-text job description (see the module docstring for the rules).

    Raises ``ValueError`` (from :func:`check_description`) when the description is empty or too long.
    """
    check_description(description)
    items = _items(description)
    has_requirement_sections = any(context in ("must", "nice") for context, _ in items)
    kept: dict[str, Requirement] = {}
    for context, raw in items:
        text = _clean_item(raw)
        lowered = text.lower()
        if context == "boiler" or not any(ch.isalnum() for ch in text) or _BOILER_ITEM.search(lowered):
            continue
        if context in ("must", "nice"):
            if len(text) < 2:
                continue
        else:
            # duties and other text: only statements that read like requirements
            if context == "duties" and has_requirement_sections:
                continue
            cue = _STRONG_CUE if has_requirement_sections else _REQUIREMENT_CUE
            if len(text.split()) < 4 or not cue.search(lowered):
                continue
        importance: Importance = "nice" if context == "nice" or _NICE_WORDING.search(lowered) else "must"
        requirement = Requirement(text=text, importance=importance, years=_parse_years(text))
        key = _dedupe_key(text)
        if not key:
            continue
        if key in kept:
            if importance == "must" and kept[key].importance == "nice":
                kept[key] = kept[key].model_copy(update={"importance": "must"})
            continue
        kept[key] = requirement
    ordered = list(kept.values())
    if len(ordered) > MAX_REQUIREMENTS:
        ranked = sorted(range(len(ordered)), key=lambda i: (ordered[i].importance != "must", i))
        chosen = sorted(ranked[:MAX_REQUIREMENTS])
        ordered = [ordered[i] for i in chosen]
    return ordered


# --------------------------------------------------------------------------- scoring


def verdict_for(score: float) -> Verdict:
    """'strong' at 0.75 or more, 'partial' at 0.45 or more, else 'gap'."""
    if score >= STRONG_THRESHOLD:
        return "strong"
    if score >= PARTIAL_THRESHOLD:
        return "partial"
    return "gap"


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def _semantic(scores: Sequence[float]) -> float:
    """Best hit score, plus a small corroboration bonus: 0.1 × the mean of the next two."""
    if not scores:
        return 0.0
    best = scores[0]
    others = scores[1:3]
    bonus = 0.1 * (sum(others) / len(others)) if others else 0.0
    return _clamp(best + bonus)


def _format_years(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def assess(
    requirement: Requirement,
    hits: list[SearchHit],
    skill_keywords: set[str],
    years_by_keyword: dict[str, float],
) -> RequirementFit:
    """Score how well the résumé meets one requirement.

    * ``semantic``: the best hit score (hits come from the caller's hybrid search, 0–1) plus 0.1 × the
      mean of the next two, capped at 1.
    * ``coverage``: the share of the technology terms named by the requirement (:func:`term_groups`;
      alternatives such as "Go or Python" count once, met by either) that the résumé also names, in
      ``skill_keywords`` (lower-cased) or in the text of any hit.
    * score = 0.55 × semantic + 0.45 × coverage when the requirement names terms, else semantic.
    * Years: when the requirement states N years, the candidate's years are the most work years of a
      covered term (``years_by_keyword``, lower-cased keys), else the total under ``"*"`` when the
      requirement names no terms, else 0 when none of its terms is covered. Having Y < N years
      multiplies the score by 0.6 + 0.4 × Y/N. Unknown years leave the score unchanged.

    Evidence is the top three hits (score > 0) by score.
    """
    ranked = sorted(
        (hit.model_copy(update={"score": round(_clamp(hit.score), 4)}) for hit in hits),
        key=lambda hit: (-hit.score, hit.path),
    )
    ranked = [hit for hit in ranked if hit.score > 0]
    semantic = _semantic([hit.score for hit in ranked])

    known = {_canon(k) for k in skill_keywords}
    groups = term_groups(requirement.text, skill_keywords)
    covered: list[str] = []
    missing: list[str] = []
    covered_groups = 0
    for group in groups:
        found = [
            term
            for term in group
            if _canon(term) in known or any(term_pattern(term).search(hit.text) for hit in ranked)
        ]
        if found:
            covered_groups += 1
            covered += found
        else:
            missing.append(" or ".join(group))
    terms = [term for group in groups for term in group]
    coverage = covered_groups / len(groups) if groups else None
    score = semantic if coverage is None else SEMANTIC_WEIGHT * semantic + KEYWORD_WEIGHT * coverage

    years_note = ""
    if requirement.years:
        needed = requirement.years
        canon_years = {_canon(k): v for k, v in years_by_keyword.items()}
        have: float | None
        with_years = [canon_years[_canon(t)] for t in covered if _canon(t) in canon_years]
        if with_years:
            have = max(with_years)
        elif not terms:
            have = years_by_keyword.get(TOTAL_YEARS_KEY)
        elif not covered:
            have = 0.0
        else:
            have = None
        if have is None:
            years_note = f"{needed}+ years asked, not evidenced by dated work"
        else:
            if have < needed:
                score *= 0.6 + 0.4 * (have / needed)
            years_note = f"{_format_years(round(have, 1))} years vs {needed}+ asked"

    score = round(_clamp(score), 3)
    verdict = verdict_for(score)
    evidence = ranked[:MAX_EVIDENCE]

    parts = [f"{verdict.capitalize()} ({score:.2f})"]
    if evidence:
        parts.append(f"best evidence {evidence[0].score:.2f} at {evidence[0].path}")
    else:
        parts.append("no résumé evidence found")
    if covered:
        parts.append("matched " + ", ".join(covered))
    if missing:
        parts.append("missing " + ", ".join(missing))
    if years_note:
        parts.append(years_note)
    return RequirementFit(
        requirement=requirement,
        score=score,
        verdict=verdict,
        evidence=evidence,
        matched_keywords=covered,
        rationale="; ".join(parts) + ".",
    )


def summarise_fit(fits: list[RequirementFit]) -> JobFit:
    """Overall fit: the weighted mean score (must ×2, nice ×1), gaps (musts first) and top strengths."""
    weights = [2.0 if fit.requirement.importance == "must" else 1.0 for fit in fits]
    total = sum(weights)
    overall = sum(w * fit.score for w, fit in zip(weights, fits, strict=True)) / total if total else 0.0
    missing = [fit for fit in fits if fit.verdict == "gap"]
    gaps = [fit.requirement.text for fit in missing if fit.requirement.importance == "must"]
    gaps += [fit.requirement.text for fit in missing if fit.requirement.importance == "nice"]
    strong = sorted(
        (fit for fit in fits if fit.verdict == "strong"),
        key=lambda fit: (-fit.score, fit.requirement.importance != "must"),
    )
    return JobFit(
        overall_score=round(overall, 3),
        requirements=list(fits),
        gaps=gaps,
        strengths=[fit.requirement.text for fit in strong[:MAX_STRENGTHS]],
        narrative=None,
    )


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def narrative_prompt(fit: JobFit, candidate_name: str) -> str:
    """The user message asking an LLM for a short, honest, evidence-citing fit narrative."""
    name = candidate_name.strip() or "the candidate"
    lines = [
        f"Below is a keyword-and-evidence assessment of how well {name}'s résumé fits a job posting.",
        f"Overall score: {fit.overall_score:.2f} (0 = no fit, 1 = complete fit; must-haves weigh double).",
        "",
        "Requirements (importance, verdict, score) with the résumé evidence found for each:",
    ]
    for index, item in enumerate(fit.requirements, start=1):
        req = item.requirement
        label = f"[{req.importance}, {item.verdict}, {item.score:.2f}]"
        lines.append(f"{index}. {label} {_shorten(req.text, 200)}")
        for hit in item.evidence[:2]:
            lines.append(f"   - evidence {hit.path}: {_shorten(hit.text, 220)}")
        if not item.evidence:
            lines.append("   - no evidence found in the résumé")
        for shown in item.project_evidence[:2]:
            span = f", {shown.first_commit} to {shown.last_commit}" if shown.first_commit else ""
            lines.append(f"   - git repository {shown.repo}: {shown.commits} commit(s) on {shown.term}{span}")
    if fit.gaps:
        lines += ["", "Gaps: " + "; ".join(_shorten(gap, 120) for gap in fit.gaps)]
    lines += [
        "",
        f"Write 3–5 sentences assessing {name}'s fit for this role, addressed to a recruiter. "
        "Lead with the strongest matches and cite the evidence (quote a short phrase or give its path). "
        "Be honest about the gaps, especially unmet must-haves, and do not invent experience, numbers or "
        "skills that the evidence above does not show. Plain prose, no lists, no headings.",
    ]
    return "\n".join(lines)
