"""Tests of folio_core.embeddings: the packaged local model and the OpenAI embedder (with a fake client)."""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from folio_core.embeddings import (
    LOCAL_MODEL_NAME,
    Embedder,
    EmbedderMismatchError,
    EmbeddingError,
    LocalEmbedder,
    OpenAIEmbedder,
    check_compatible,
    make_embedder,
    packaged_model_dir,
)

MODEL_DIR = Path(str(packaged_model_dir()))


def _sums() -> dict[str, str]:
    lines = (MODEL_DIR / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines if line)}


@pytest.fixture(scope="module")
def local() -> LocalEmbedder:
    embedder = LocalEmbedder()
    embedder.load()
    return embedder


def _long_text(sentences: int = 40) -> str:
    return " ".join(
        f"Sentence {i} describes how the analytics team rebuilt report {i * 13} for the finance office."
        for i in range(sentences)
    )


# -- packaged model -----------------------------------------------------------------------------------


def test_packaged_files_match_sha256sums() -> None:
    sums = _sums()
    assert set(sums) == {"model.onnx", "tokenizer.json"}
    for name, expected in sums.items():
        assert hashlib.sha256((MODEL_DIR / name).read_bytes()).hexdigest() == expected, name
    LocalEmbedder().verify()


def test_tampered_model_is_refused(tmp_path: Path) -> None:
    for name in ("model.onnx", "tokenizer.json", "golden.json"):
        (tmp_path / name).symlink_to(MODEL_DIR / name)
    sums = (MODEL_DIR / "SHA256SUMS").read_text(encoding="utf-8")
    (tmp_path / "SHA256SUMS").write_text(sums.replace(_sums()["model.onnx"], "0" * 64), encoding="utf-8")
    embedder = LocalEmbedder(model_dir=tmp_path)
    with pytest.raises(EmbeddingError, match=r"model\.onnx is corrupt"):
        embedder.verify()
    with pytest.raises(EmbeddingError, match=r"model\.onnx is corrupt"):
        embedder.embed_query("hello")


def test_missing_model_file_gives_embedding_error(tmp_path: Path) -> None:
    shutil.copyfile(MODEL_DIR / "SHA256SUMS", tmp_path / "SHA256SUMS")
    with pytest.raises(EmbeddingError, match="not found"):
        LocalEmbedder(model_dir=tmp_path).embed_query("hello")


@pytest.mark.slow
def test_constructing_embedders_imports_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "from folio_core.embeddings import make_embedder\n"
        "e = make_embedder('local'); o = make_embedder('openai:text-embedding-3-small')\n"
        "assert (e.name, e.dim, o.dim) == ('all-MiniLM-L6-v2@onnx-fp16', 384, 1536)\n"
        "print(sorted(m for m in ('onnxruntime', 'tokenizers', 'openai', 'torch') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"


# -- local embedder: vectors --------------------------------------------------------------------------


@pytest.mark.slow
def test_local_vectors_match_golden_reference(local: LocalEmbedder) -> None:
    golden = json.loads((MODEL_DIR / "golden.json").read_text(encoding="utf-8"))
    texts = [item["text"] for item in golden["items"]]
    expected = np.array([item["vector"] for item in golden["items"]], dtype=np.float32)
    assert golden["dim"] == local.dim == 384
    got = local.embed_documents(texts)
    assert got.shape == (len(texts), 384)
    assert got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(got * expected, axis=1) / np.linalg.norm(expected, axis=1)
    assert cosines.min() >= 0.9999, dict(zip(texts, cosines.tolist(), strict=True))
    # one text at a time too (no padding at all)
    singles = np.stack([local.embed_query(t) for t in texts])
    assert (np.sum(singles * expected, axis=1) / np.linalg.norm(expected, axis=1)).min() >= 0.9999


@pytest.mark.slow
def test_vector_does_not_depend_on_its_batch(local: LocalEmbedder) -> None:
    text = "Reduced cloud spending by moving batch jobs to cheaper instances."
    alone = local.embed_query(text)
    others = [f"filler sentence number {i} " * (i % 9 + 1) for i in range(70)] + [_long_text()]
    batch = local.embed_documents([*others[:40], text, *others[40:]])
    np.testing.assert_allclose(batch[40], alone, atol=1e-6, rtol=0)
    again = local.embed_documents([*others[:40], text, *others[40:]])
    np.testing.assert_array_equal(batch, again)


@pytest.mark.slow
def test_text_longer_than_256_tokens_is_truncated(local: LocalEmbedder) -> None:
    long = _long_text(40)
    longer = long + " And this trailing sentence lies far beyond the 256-token window."
    vectors = local.embed_documents([long, longer, "short text"])
    assert np.all(np.isfinite(vectors))
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6, rtol=0)
    assert float(vectors[0] @ vectors[2]) < 0.9


@pytest.mark.slow
def test_empty_inputs_are_handled(local: LocalEmbedder) -> None:
    assert local.embed_documents([]).shape == (0, 384)
    vector = local.embed_query("")
    assert vector.shape == (384,)
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    with pytest.raises(TypeError):
        local.embed_documents("not a list")


@pytest.mark.slow
def test_lazy_load_happens_once_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = LocalEmbedder(threads=1)
    assert not embedder.loaded
    calls = 0
    original = LocalEmbedder._load_runtime

    def counting(self: LocalEmbedder) -> Any:
        nonlocal calls
        calls += 1
        return original(self)

    monkeypatch.setattr(LocalEmbedder, "_load_runtime", counting)
    results: list[np.ndarray[Any, Any]] = []
    barrier = threading.Barrier(6)

    def work() -> None:
        barrier.wait()
        results.append(embedder.embed_query("thread-safe lazy loading"))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == 1
    assert len(results) == 6
    for r in results[1:]:
        np.testing.assert_array_equal(r, results[0])


# -- retrieval sanity check ----------------------------------------------------------------------------

# A fictional professional, Tomás Reyes (healthcare data scientist). Queries are paraphrases of their
# target passage; the distractors share words or topics with the queries without answering them.
RETRIEVAL_PAIRS: list[tuple[str, str]] = [
    (
        "What doctorate does he hold?",
        "Earned a PhD in biostatistics from Utrecht University in 2016; his thesis modelled hospital "
        "readmission risk.",
    ),
    (
        "forecasting how many patients will turn up",
        "Built a model that predicts emergency-room admissions three days ahead, which nurses use to "
        "plan shifts.",
    ),
    (
        "has he taught classes?",
        "Lectured an evening course on applied regression for working analysts at a community college.",
    ),
    (
        "earlier job at an insurer",
        "From 2012 to 2016 he was a pricing analyst at Harbourline Insurance, setting car premiums with "
        "generalised linear models.",
    ),
    (
        "tools he uses for dashboards",
        "Creates interactive reports in Tableau and Streamlit for clinical managers.",
    ),
    (
        "which languages does he speak apart from English?",
        "Native Spanish speaker, fluent in Dutch, with basic Portuguese.",
    ),
    (
        "academic publications",
        "Co-author of five peer-reviewed articles, including one in The Lancet Digital Health on "
        "sepsis alerts.",
    ),
    (
        "keeping patient data anonymous",
        "Designed the de-identification pipeline that strips names and dates of birth before records reach "
        "analysts.",
    ),
    (
        "people management experience",
        "Heads a group of six analysts and two data engineers, running quarterly goal setting and "
        "one-to-ones.",
    ),
    (
        "what does he do in his free time?",
        "Spends weekends sailing small dinghies and restoring old film cameras.",
    ),
    (
        "where is he based and is he willing to travel?",
        "Lives in Rotterdam and is happy to visit clients across the Benelux twice a month.",
    ),
    (
        "speeding up slow overnight data processing",
        "Moved the nightly batch jobs from a single server to Spark on Databricks, cutting run time from "
        "nine hours to forty minutes.",
    ),
    (
        "controlled experiments on a website",
        "Ran randomised trials of the patient portal's reminder emails that raised appointment "
        "confirmations by 12%.",
    ),
    (
        "prizes he has won",
        "Received the hospital's innovation award in 2022 for the early-warning score project.",
    ),
    (
        "how soon could he start a new job?",
        "Can join after a one-month notice period, from March onwards.",
    ),
]
DISTRACTORS: list[str] = [
    "The hospital cafeteria serves breakfast from seven in the morning.",
    "Sailing rules require a life jacket for every person on board.",
    "Rotterdam has the largest seaport in Europe.",
    "The job advert asks for three years of experience with SQL Server.",
    "Spark plugs should be replaced every 30,000 miles.",
    "Tableau is the French word for a painting.",
    "Insurance claims must be filed within 30 days of treatment.",
    "The community college car park closes at ten in the evening.",
    "Film cameras were largely replaced by digital sensors in the 2000s.",
    "The Lancet is a weekly medical journal founded in 1823.",
    "Candidates hear the outcome of the interview within two weeks.",
    "Dutch courses for beginners start every September.",
    "Patients can book appointments online or by phone.",
    "The department offers a yearly budget for training and conferences.",
    "Emergency exits are marked with green signs at the end of each corridor.",
]


@pytest.mark.slow
def test_paraphrased_queries_find_their_passages(local: LocalEmbedder) -> None:
    queries = [q for q, _ in RETRIEVAL_PAIRS]
    passages = [p for _, p in RETRIEVAL_PAIRS] + DISTRACTORS
    p_vec = local.embed_documents(passages)
    ranks = []
    for i, query in enumerate(queries):
        scores = p_vec @ local.embed_query(query)
        ranks.append(int(np.sum(scores > scores[i])) + 1)
    n = len(queries)
    r1 = sum(r == 1 for r in ranks) / n
    r3 = sum(r <= 3 for r in ranks) / n
    mrr = sum(1 / r for r in ranks) / n
    print(f"\nretrieval over {len(passages)} passages: recall@1 {r1:.2f}, recall@3 {r3:.2f}, MRR {mrr:.3f}")
    misses = {q: r for q, r in zip(queries, ranks, strict=True) if r > 1}
    print(f"ranks of the misses: {misses}")
    assert r1 >= 0.6, misses
    assert r3 >= 0.9, misses


# -- OpenAI embedder with a fake client ----------------------------------------------------------------


def _httpx() -> ModuleType:
    """The HTTP module the installed openai SDK builds its errors from (httpx2 in openai 3.x)."""
    for name in ("httpx2", "httpx"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    pytest.skip("neither httpx2 nor httpx is installed")


def _status_error(cls_name: str, status: int) -> Exception:
    openai = pytest.importorskip("openai")
    httpx = _httpx()
    request = httpx.Request("POST", "https://api.openai.com/v1/embeddings")
    response = httpx.Response(status, request=request, json={"error": {"message": "nope"}})
    error: Exception = getattr(openai, cls_name)("nope", response=response, body=None)
    return error


class FakeEmbeddings:
    """Stands in for ``OpenAI().embeddings``; answers with SDK response objects."""

    def __init__(self, dim: int = 1536, *, error: Exception | None = None, wrong_dim_after: int = -1) -> None:
        self.dim = dim
        self.error = error
        self.wrong_dim_after = wrong_dim_after
        self.calls: list[dict[str, Any]] = []

    def vector(self, text: str, dim: int) -> list[float]:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
        # deliberately not unit length
        return [float(x) * 3.0 for x in np.random.default_rng(seed).normal(size=dim)]

    def create(self, *, model: str, input: list[str], dimensions: int | None = None, **_: Any) -> Any:
        from openai.types import CreateEmbeddingResponse, Embedding
        from openai.types.create_embedding_response import Usage

        self.calls.append({"model": model, "input": list(input), "dimensions": dimensions})
        if self.error is not None:
            raise self.error
        dim = dimensions or self.dim
        if 0 <= self.wrong_dim_after < len(self.calls):
            dim += 1
        data = [
            Embedding(embedding=self.vector(t, dim), index=i, object="embedding") for i, t in enumerate(input)
        ]
        data.reverse()  # the SDK gives no ordering promise beyond .index
        return CreateEmbeddingResponse(
            data=data,
            model=model,
            object="list",
            usage=Usage(prompt_tokens=2 * len(input), total_tokens=2 * len(input)),
        )


class FakeClient:
    def __init__(self, embeddings: FakeEmbeddings) -> None:
        self.embeddings = embeddings


@pytest.fixture
def fake() -> Iterator[FakeEmbeddings]:
    pytest.importorskip("openai")
    yield FakeEmbeddings()


def test_openai_batches_5000_inputs_into_3_requests(fake: FakeEmbeddings) -> None:
    embedder = OpenAIEmbedder(client=FakeClient(fake))
    texts = [f"memory {i}" for i in range(5000)]
    vectors = embedder.embed_documents(texts)
    assert [len(c["input"]) for c in fake.calls] == [2048, 2048, 904]
    assert all(c["model"] == "text-embedding-3-small" and c["dimensions"] is None for c in fake.calls)
    assert vectors.shape == (5000, 1536)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # order restored from .index and every row is its own text's vector
    for i in (0, 2047, 2048, 4999):
        raw = np.array(fake.vector(texts[i], 1536), dtype=np.float32)
        np.testing.assert_allclose(vectors[i], raw / np.linalg.norm(raw), atol=1e-6)
    assert embedder.tokens_used == 2 * 5000


def test_openai_query_and_requested_dimensions(fake: FakeEmbeddings) -> None:
    embedder = OpenAIEmbedder("text-embedding-3-large", client=FakeClient(fake), dimensions=256)
    assert (embedder.name, embedder.dim) == ("openai:text-embedding-3-large", 256)
    vector = embedder.embed_query("")
    assert vector.shape == (256,)
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    assert fake.calls == [{"model": "text-embedding-3-large", "input": [" "], "dimensions": 256}]


def test_openai_wrong_dimension_is_an_error(fake: FakeEmbeddings) -> None:
    fake.dim = 768
    with pytest.raises(EmbeddingError, match=r"returned 768-d vectors, but 1536"):
        OpenAIEmbedder(client=FakeClient(fake)).embed_query("hello")


def test_openai_unknown_model_learns_dimension_then_checks_it() -> None:
    pytest.importorskip("openai")
    fake = FakeEmbeddings(dim=768, wrong_dim_after=1)
    embedder = OpenAIEmbedder("nomic-embed-text", client=FakeClient(fake))
    assert embedder.known_dim is None
    assert embedder.dim == 768  # one probe request
    assert len(fake.calls) == 1
    with pytest.raises(EmbeddingError, match="returned 769-d vectors, but 768"):
        embedder.embed_documents(["a", "b"])


@pytest.mark.parametrize(
    ("error_factory", "message"),
    [
        (lambda: _status_error("RateLimitError", 429), "rate limit or quota exceeded"),
        (lambda: _status_error("AuthenticationError", 401), "API key was rejected"),
        (lambda: _status_error("InternalServerError", 500), "failed with HTTP 500"),
    ],
)
def test_openai_errors_become_embedding_errors(error_factory: Any, message: str) -> None:
    error = error_factory()
    embedder = OpenAIEmbedder(client=FakeClient(FakeEmbeddings(error=error)))
    with pytest.raises(EmbeddingError, match=message) as info:
        embedder.embed_documents(["hello"])
    assert info.value.__cause__ is error


def test_openai_unreachable_server_is_a_connection_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("openai")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    # port 9 (discard) on loopback: nothing listens, so the connection is refused at once
    embedder = OpenAIEmbedder(base_url="http://127.0.0.1:9/v1", max_retries=0, timeout=5)
    with pytest.raises(EmbeddingError, match=r"could not connect to http://127.0.0.1:9/v1"):
        embedder.embed_query("hello")


def test_openai_without_key_or_base_url_says_how_to_configure(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("openai")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(EmbeddingError, match="set OPENAI_API_KEY"):
        OpenAIEmbedder().embed_query("hello")


def test_openai_key_and_base_url_come_from_arguments_then_env(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("openai")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    from_env = OpenAIEmbedder()._get_client()
    assert from_env.api_key == "sk-from-env"
    embedder = make_embedder(
        "openai:text-embedding-3-small", openai_base_url="http://127.0.0.1:8000/v1", openai_api_key="sk-arg"
    )
    assert isinstance(embedder, OpenAIEmbedder)
    client = embedder._get_client()
    assert client.api_key == "sk-arg"
    assert str(client.base_url) == "http://127.0.0.1:8000/v1/"


def test_openai_missing_package_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)  # makes `import openai` raise ImportError
    with pytest.raises(EmbeddingError, match=r"pip install 'folio-core\[openai\]'"):
        OpenAIEmbedder(api_key="sk-test").embed_query("hello")


# -- make_embedder and check_compatible ----------------------------------------------------------------


def test_make_embedder_accepts_local_and_openai_specs() -> None:
    local = make_embedder("local")
    assert isinstance(local, LocalEmbedder)
    assert isinstance(local, Embedder)
    assert (local.name, local.dim) == (LOCAL_MODEL_NAME, 384)
    large = make_embedder(" openai:text-embedding-3-large ")
    assert isinstance(large, OpenAIEmbedder)
    assert (large.name, large.dim) == ("openai:text-embedding-3-large", 3072)
    assert make_embedder("openai:text-embedding-ada-002").dim == 1536


@pytest.mark.parametrize("spec", ["", "openai", "openai:", "st:all-MiniLM-L6-v2", "LOCAL", "huggingface:x"])
def test_make_embedder_rejects_other_specs(spec: str) -> None:
    with pytest.raises(ValueError, match=r"'local' or 'openai:<model>'"):
        make_embedder(spec)


def test_check_compatible_accepts_the_same_embedder() -> None:
    check_compatible(LOCAL_MODEL_NAME, 384, LocalEmbedder())
    check_compatible("openai:text-embedding-3-small", 1536, OpenAIEmbedder())


def test_check_compatible_refuses_another_model_and_says_how_to_fix() -> None:
    with pytest.raises(EmbedderMismatchError) as info:
        check_compatible(LOCAL_MODEL_NAME, 384, OpenAIEmbedder())
    message = str(info.value)
    assert f"{LOCAL_MODEL_NAME} (384-d)" in message
    assert "openai:text-embedding-3-small (1536-d)" in message
    assert "'local'" in message
    assert "re-embed" in message
    with pytest.raises(EmbedderMismatchError, match=r"back to 'openai:text-embedding-3-small'"):
        check_compatible("openai:text-embedding-3-small", 1536, LocalEmbedder())


def test_check_compatible_refuses_same_model_with_other_dimension() -> None:
    with pytest.raises(EmbedderMismatchError, match=r"\(1536-d\).*\(512-d\)"):
        check_compatible("openai:text-embedding-3-small", 1536, OpenAIEmbedder(dimensions=512))
    assert issubclass(EmbedderMismatchError, EmbeddingError)


def test_check_compatible_does_not_call_the_api_when_names_differ() -> None:
    pytest.importorskip("openai")
    fake = FakeEmbeddings(dim=768)
    with pytest.raises(EmbedderMismatchError, match="configured embedder is openai:nomic-embed-text;"):
        check_compatible(LOCAL_MODEL_NAME, 384, OpenAIEmbedder("nomic-embed-text", client=FakeClient(fake)))
    assert fake.calls == []
