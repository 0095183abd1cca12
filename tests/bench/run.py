"""Folio benchmarks (``make bench``): each ``bench_<name>.py`` beside this file prints a table and
its results are written to ``bench-results/<name>.json``.

A benchmark module defines ``NAME``, ``add_arguments(parser)``, ``async run(args) -> dict`` and
``report(results)``. ``--only NAME`` runs one of them.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path
from types import ModuleType

import anyio

from folio_core.logging import configure_logging
from folio_core.settings import FolioSettings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def modules() -> list[ModuleType]:
    found = []
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        found.append(module)
    return found


async def main() -> None:
    benches = modules()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=[b.NAME for b in benches], action="append")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    for bench in benches:
        bench.add_arguments(parser)
    args = parser.parse_args()
    configure_logging(FolioSettings(log_level="warning"))
    args.out.mkdir(parents=True, exist_ok=True)
    for bench in benches:
        if args.only and bench.NAME not in args.only:
            continue
        meta = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_before": os.getloadavg(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        results = await bench.run(args)
        bench.report(results)
        out = args.out / f"{bench.NAME}.json"
        out.write_text(json.dumps({"meta": meta, bench.NAME: results}, indent=2))
        print(f"written: {out}")


if __name__ == "__main__":
    anyio.run(main)
