"""Job fit without an LLM: requirement extraction and scoring against hand-made evidence."""

from __future__ import annotations

import pytest

from folio_profile.matching import (
    MAX_DESCRIPTION_CHARS,
    MAX_REQUIREMENTS,
    assess,
    check_description,
    extract_requirements,
    narrative_prompt,
    summarise_fit,
    tech_terms,
    term_groups,
    term_pattern,
    verdict_for,
)
from folio_profile.models import TOTAL_YEARS_KEY, Requirement, RequirementFit, SearchHit

PLATFORM_JOB = """\
Senior Platform Engineer — Remote (EU)

About us
Northwind Freight is a Series B logistics startup backed by great investors. We are a team of
120 people on a mission to make shipping boring.

What you'll do
- Design and operate our Kubernetes platform on AWS
- Build golden paths for 40 product engineers
- Own incident response and SLOs for the platform

Requirements
- 5+ years of experience building backend or infrastructure systems
- Strong experience with Kubernetes and Terraform in production
- Proficiency in Go or Python
- Experience running Kafka or another event streaming platform at scale
- Excellent written communication in English
- Experience with Rust is a plus

Nice to have
- Familiarity with Backstage or another developer portal
- Experience with Flink
- Contributions to open source
  projects in the infrastructure space

What we offer
- Salary range €85,000–€105,000 plus equity
- 30 vacation days and a learning budget
- Health insurance and a home-office stipend

Northwind Freight is an equal opportunity employer. We welcome applicants regardless of race,
gender, age, religion or disability.
"""

ML_JOB = """\
## Machine Learning Infrastructure Engineer

**The role**
You will join the ML platform team and help our data scientists ship models faster. In this role
you'll work with strong engineers.

**Minimum qualifications:**
1. BS/MS in Computer Science or equivalent practical experience.
2) 3-5 years of software engineering experience, including two years with ML systems.
3. Hands-on experience with MLflow, Kubeflow or a similar model lifecycle tool.
4. Experience with Spark and Airflow.

**Preferred qualifications:**
* Experience with PyTorch.
* Knowledge of feature stores.
* Experience with PyTorch.

Benefits: generous PTO, 401(k) matching.
To apply, send your CV to jobs@example.com.
"""

PROSE_JOB = (
    "We're hiring a staff data engineer to lead our analytics platform. You have at least seven years "
    "of experience with data pipelines and SQL. You should be comfortable with dbt and Snowflake, e.g. "
    "modelling a warehouse from scratch. Experience mentoring engineers is preferred. We offer a "
    "competitive salary and flexible hours. Our office is in Amsterdam."
)


def texts(requirements: list[Requirement]) -> list[str]:
    return [r.text for r in requirements]


# ---------------------------------------------------------------- extraction


def test_bulleted_posting_yields_musts_then_nice_and_drops_boilerplate() -> None:
    found = extract_requirements(PLATFORM_JOB)
    assert [(r.text, r.importance, r.years) for r in found] == [
        ("5+ years of experience building backend or infrastructure systems", "must", 5),
        ("Strong experience with Kubernetes and Terraform in production", "must", None),
        ("Proficiency in Go or Python", "must", None),
        ("Experience running Kafka or another event streaming platform at scale", "must", None),
        ("Excellent written communication in English", "must", None),
        ("Experience with Rust is a plus", "nice", None),  # wording beats the heading
        ("Familiarity with Backstage or another developer portal", "nice", None),
        ("Experience with Flink", "nice", None),
        ("Contributions to open source projects in the infrastructure space", "nice", None),  # joined lines
    ]
    joined = " ".join(texts(found)).lower()
    for boilerplate in ("salary", "vacation", "insurance", "equal opportunity", "series b", "golden paths"):
        assert boilerplate not in joined


def test_markdown_posting_with_numbered_lists_and_inline_headings() -> None:
    found = extract_requirements(ML_JOB)
    assert [(r.text, r.importance, r.years) for r in found] == [
        ("BS/MS in Computer Science or equivalent practical experience.", "must", None),
        ("3-5 years of software engineering experience, including two years with ML systems.", "must", 3),
        ("Hands-on experience with MLflow, Kubeflow or a similar model lifecycle tool.", "must", None),
        ("Experience with Spark and Airflow.", "must", None),
        ("Experience with PyTorch.", "nice", None),  # listed twice, kept once
        ("Knowledge of feature stores.", "nice", None),
    ]


def test_unstructured_prose_keeps_requirement_sentences_only() -> None:
    found = extract_requirements(PROSE_JOB)
    assert [(r.text, r.importance, r.years) for r in found] == [
        ("You have at least seven years of experience with data pipelines and SQL.", "must", 7),
        (
            "You should be comfortable with dbt and Snowflake, e.g. modelling a warehouse from scratch.",
            "must",
            None,
        ),
        ("Experience mentoring engineers is preferred.", "nice", None),
    ]


def test_duties_count_only_when_there_is_no_requirements_section() -> None:
    posting = "Responsibilities:\n- Run our Postgres fleet\n- You must have strong SQL experience\n"
    assert texts(extract_requirements(posting)) == ["You must have strong SQL experience"]
    with_requirements = posting + "\nRequirements:\n- 3+ years with PostgreSQL\n"
    assert texts(extract_requirements(with_requirements)) == ["3+ years with PostgreSQL"]


def test_duplicates_merge_and_keep_the_stronger_importance() -> None:
    posting = "Nice to have:\n- Experience with Kafka\n\nRequirements:\n- experience with kafka!\n"
    assert [(r.text, r.importance) for r in extract_requirements(posting)] == [
        ("Experience with Kafka", "must")
    ]


def test_requirements_are_capped_with_musts_first() -> None:
    nice = "\n".join(f"- Bonus skill number {i}" for i in range(30))
    must = "\n".join(f"- Required skill number {i}" for i in range(30))
    found = extract_requirements(f"Nice to have:\n{nice}\n\nRequirements:\n{must}\n")
    assert len(found) == MAX_REQUIREMENTS
    assert sum(r.importance == "must" for r in found) == 30
    assert found[0].text == "Bonus skill number 0"  # posting order is kept
    assert found[-1].text == "Required skill number 29"


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("5+ years of Python", 5),
        ("At least 4 years in SRE roles", 4),
        ("3-5 years of experience", 3),
        ("3 to 5 yrs in data", 3),
        ("Ten years of hands-on experience", 10),
        ("3 or more years with Terraform", 3),
        ("Experience with Kafka", None),
        ("A 2024 degree", None),
    ],
)
def test_years_are_parsed_from_requirements(text: str, years: int | None) -> None:
    [requirement] = extract_requirements(f"Requirements:\n- {text}\n")
    assert requirement.years == years


def test_empty_and_oversized_descriptions_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="empty"):
        check_description("   \n ")
    with pytest.raises(ValueError) as caught:
        extract_requirements("x" * (MAX_DESCRIPTION_CHARS + 5))
    message = str(caught.value)
    assert "20,005 characters" in message and "20,000" in message and "requirements" in message
    check_description("x" * MAX_DESCRIPTION_CHARS)  # at the limit is fine


def test_a_description_with_nothing_to_extract_gives_no_requirements() -> None:
    assert extract_requirements("We are a great company. Join us!") == []


# ---------------------------------------------------------------- terms


def test_term_pattern_matches_whole_terms_only() -> None:
    assert term_pattern("Go").search("Services in Go and Python")
    assert not term_pattern("Go").search("we go fast")
    assert not term_pattern("Go").search("Google")
    assert term_pattern("C++").search("modern C++ code")
    assert not term_pattern("Java").search("JavaScript")
    assert term_pattern("SLOs").search("SLO-based alerting")
    assert term_pattern("Argo CD").search("deployed with argo-cd")
    assert not term_pattern("Node").search("Node.js services")
    assert term_pattern("postgresql").search("PostgreSQL.")


def test_tech_terms_and_alternative_groups() -> None:
    assert tech_terms("Strong experience with Kubernetes, Terraform and GitHub Actions") == [
        "Kubernetes",
        "Terraform",
        "GitHub Actions",
    ]
    assert tech_terms("BS/MS in CS, fluent English, EU work permit") == []
    assert tech_terms("PostgreSQL (or Postgres) and k8s") == ["PostgreSQL", "k8s"]  # aliases fold
    assert term_groups("Proficiency in Go or Python") == [["Go", "Python"]]
    assert term_groups("Python/Go, Kafka and AWS") == [["Python", "Go"], ["Kafka"], ["AWS"]]
    assert term_groups("MLflow, Kubeflow or a similar tool") == [["MLflow", "Kubeflow"]]
    assert term_groups("Spark, Airflow, and dbt") == [["Spark"], ["Airflow"], ["dbt"]]
    assert term_groups("data contracts and schema registry", {"data contracts", "schema registry"}) == [
        ["data contracts"],
        ["schema registry"],
    ]


# ---------------------------------------------------------------- scoring


def hit(path: str, text: str, score: float, section: str = "work") -> SearchHit:
    return SearchHit(section=section, path=path, text=text, score=score)


KEYWORDS = {"kubernetes", "terraform", "go", "python", "kafka", "postgresql"}
YEARS = {"kubernetes": 4.3, "go": 6.9, "python": 11.8, "kafka": 6.9, TOTAL_YEARS_KEY: 12.8}

K8S_HIT = hit(
    "$.work[0].highlights[0]",
    "At Kestrel as Staff Engineer (2021–present): Moved 140 services to Kubernetes with Terraform.",
    0.82,
)


def test_strong_evidence_and_full_keyword_coverage_is_strong() -> None:
    requirement = Requirement(
        text="Strong experience with Kubernetes and Terraform in production", importance="must"
    )
    weaker = hit("$.skills[0]", "Skill: Platform Engineering (Expert): Kubernetes", 0.61, "skills")
    fit = assess(requirement, [weaker, K8S_HIT], KEYWORDS, YEARS)
    # semantic = 0.82 + 0.1 × 0.61; score = 0.55 × 0.881 + 0.45 × 1
    assert fit.score == pytest.approx(0.935, abs=1e-3)
    assert fit.verdict == "strong"
    assert fit.matched_keywords == ["Kubernetes", "Terraform"]
    assert [h.path for h in fit.evidence] == ["$.work[0].highlights[0]", "$.skills[0]"]
    assert fit.rationale == (
        "Strong (0.94); best evidence 0.82 at $.work[0].highlights[0]; matched Kubernetes, Terraform."
    )


def test_missing_technology_pulls_the_score_down_to_a_gap() -> None:
    requirement = Requirement(text="Experience with Rust and WebAssembly", importance="must")
    fit = assess(requirement, [hit("$.work[2]", "Go services on PostgreSQL", 0.4)], KEYWORDS, YEARS)
    assert fit.score == pytest.approx(0.22, abs=1e-3)
    assert fit.verdict == "gap"
    assert fit.matched_keywords == []
    assert "missing Rust, WebAssembly" in fit.rationale


def test_one_alternative_is_enough() -> None:
    requirement = Requirement(text="Proficiency in Go or Elixir", importance="must")
    fit = assess(requirement, [hit("$.skills[2]", "Skill: Go (Advanced)", 0.7, "skills")], KEYWORDS, YEARS)
    assert fit.matched_keywords == ["Go"]
    assert fit.score == pytest.approx(0.55 * 0.7 + 0.45, abs=1e-3)
    assert "missing" not in fit.rationale


def test_keywords_found_only_in_evidence_text_count() -> None:
    requirement = Requirement(text="Hands-on experience with MLflow", importance="nice")
    evidence = hit("$.work[1].highlights[4]", "Rolled out MLflow for experiment tracking", 0.5)
    fit = assess(requirement, [evidence], set(), {})
    assert fit.matched_keywords == ["MLflow"]
    assert fit.score == pytest.approx(0.55 * 0.5 + 0.45, abs=1e-3)
    assert fit.verdict == "partial"


def test_requirement_without_terms_is_scored_on_evidence_alone() -> None:
    requirement = Requirement(text="Excellent written communication", importance="must")
    fit = assess(
        requirement,
        [hit("$.publications[1]", "Publication: blog post", 0.5, "publications")],
        KEYWORDS,
        YEARS,
    )
    assert fit.score == 0.5 and fit.verdict == "partial"
    assert assess(requirement, [], KEYWORDS, YEARS).score == 0.0
    assert "no résumé evidence found" in assess(requirement, [], KEYWORDS, YEARS).rationale


def test_too_few_years_reduce_the_score() -> None:
    enough = Requirement(text="3+ years of Kubernetes", importance="must", years=3)
    too_many = Requirement(text="8+ years of Kubernetes", importance="must", years=8)
    base = assess(enough, [K8S_HIT], KEYWORDS, YEARS)
    short = assess(too_many, [K8S_HIT], KEYWORDS, YEARS)
    assert "4.3 years vs 3+ asked" in base.rationale
    assert "4.3 years vs 8+ asked" in short.rationale
    # 4.3 of 8 years: × (0.6 + 0.4 × 4.3 / 8)
    assert short.score == pytest.approx(base.score * (0.6 + 0.4 * 4.3 / 8), abs=2e-3)
    assert short.score < base.score


def test_general_years_use_the_total_career_and_unknown_years_change_nothing() -> None:
    general = Requirement(text="10+ years building software", importance="must", years=10)
    fit = assess(
        general, [hit("$.basics.summary", "Twelve years of platforms", 0.6, "basics")], KEYWORDS, YEARS
    )
    assert fit.score == 0.6 and "12.8 years vs 10+ asked" in fit.rationale
    undated = Requirement(text="5+ years of Terraform", importance="must", years=5)
    fit = assess(undated, [K8S_HIT], KEYWORDS, YEARS)
    assert "not evidenced by dated work" in fit.rationale
    assert fit.score == pytest.approx(0.55 * 0.82 + 0.45, abs=1e-3)
    absent = Requirement(text="5+ years of Haskell", importance="must", years=5)
    assert "0 years vs 5+ asked" in assess(absent, [], KEYWORDS, YEARS).rationale


def test_evidence_is_the_top_three_positive_hits_and_scores_are_clamped() -> None:
    hits = [
        hit(f"$.work[0].highlights[{i}]", f"Kafka text {i}", s)
        for i, s in enumerate([0.3, 1.4, 0.0, 0.5, 0.2])
    ]
    fit = assess(Requirement(text="Kafka at scale", importance="must"), hits, KEYWORDS, YEARS)
    assert [h.path for h in fit.evidence] == [
        "$.work[0].highlights[1]",
        "$.work[0].highlights[3]",
        "$.work[0].highlights[0]",
    ]
    assert fit.evidence[0].score == 1.0
    assert fit.score == 1.0


@pytest.mark.parametrize(
    ("score", "verdict"), [(0.75, "strong"), (0.749, "partial"), (0.45, "partial"), (0.449, "gap")]
)
def test_verdict_thresholds(score: float, verdict: str) -> None:
    assert verdict_for(score) == verdict


# ---------------------------------------------------------------- summary and narrative


def fit_of(text: str, importance: str, score: float) -> RequirementFit:
    requirement = Requirement(text=text, importance="must" if importance == "must" else "nice")
    return RequirementFit(
        requirement=requirement,
        score=score,
        verdict=verdict_for(score),
        evidence=[hit("$.work[0]", f"evidence for {text}", score)] if score > 0.3 else [],
        matched_keywords=[],
        rationale="-",
    )


def test_summarise_fit_weights_musts_double_and_orders_gaps_and_strengths() -> None:
    fits = [
        fit_of("Rust", "nice", 0.1),
        fit_of("Kubernetes", "must", 0.9),
        fit_of("Haskell", "must", 0.2),
        fit_of("Kafka", "must", 0.8),
        fit_of("Backstage", "nice", 0.95),
        fit_of("Go", "must", 0.5),
    ]
    job = summarise_fit(fits)
    # (2 × (0.9 + 0.2 + 0.8 + 0.5) + 0.1 + 0.95) / (2 × 4 + 2)
    assert job.overall_score == pytest.approx(0.585, abs=1e-3)
    assert job.gaps == ["Haskell", "Rust"]
    assert job.strengths == ["Backstage", "Kubernetes", "Kafka"]
    assert job.narrative is None
    assert [f.requirement.text for f in job.requirements] == [
        "Rust",
        "Kubernetes",
        "Haskell",
        "Kafka",
        "Backstage",
        "Go",
    ]


def test_summarise_no_requirements() -> None:
    job = summarise_fit([])
    assert job.overall_score == 0.0 and job.gaps == [] and job.strengths == [] and job.requirements == []


def test_narrative_prompt_asks_for_an_honest_evidence_based_paragraph() -> None:
    job = summarise_fit([fit_of("Kubernetes in production", "must", 0.9), fit_of("Haskell", "must", 0.2)])
    prompt = narrative_prompt(job, "Ines Halvorsen")
    assert "Ines Halvorsen" in prompt
    assert "3–5 sentences" in prompt
    assert "gaps" in prompt and "do not invent" in prompt
    assert "1. [must, strong, 0.90] Kubernetes in production" in prompt
    assert "   - evidence $.work[0]: evidence for Kubernetes in production" in prompt
    assert "2. [must, gap, 0.20] Haskell\n   - no evidence found in the résumé" in prompt
    assert "Gaps: Haskell" in prompt
    assert "Overall score: 0.55" in prompt


def test_end_to_end_fit_from_a_posting() -> None:
    requirements = extract_requirements(PLATFORM_JOB)
    evidence = {
        "Strong experience with Kubernetes and Terraform in production": [K8S_HIT],
        "Proficiency in Go or Python": [hit("$.skills[1]", "Skill: Python (Expert)", 0.7, "skills")],
    }
    fits = [assess(r, evidence.get(r.text, []), KEYWORDS, YEARS) for r in requirements]
    by_text = {f.requirement.text: f for f in fits}
    assert by_text["Strong experience with Kubernetes and Terraform in production"].verdict == "strong"
    assert by_text["Experience with Flink"].verdict == "gap"
    # Kafka is a résumé keyword even without a search hit: coverage alone gives 0.45
    assert by_text["Experience running Kafka or another event streaming platform at scale"].score == 0.45
    job = summarise_fit(fits)
    assert job.gaps[0] == "5+ years of experience building backend or infrastructure systems"
    assert job.gaps[-1] == "Contributions to open source projects in the infrastructure space"
    assert 0 < job.overall_score < 1
