"""One Folio process holding the embedded PostgreSQL of a data directory, for test_embedded.py.

    embedded_child.py <data_dir>

Starts (or joins) the cluster, connects, prints one JSON line {"pid", "url", "answer"}, then obeys
lines on stdin: "query" prints {"answer": ...} from a fresh query, "exit" (or EOF) exits normally,
so the atexit hook releases the cluster.
"""

import json
import os
import sys
from pathlib import Path

import psycopg

from folio_core.db.embedded import embedded_postgres
from folio_core.logging import configure_logging
from folio_core.settings import FolioSettings


def query(url: str) -> int:
    with psycopg.connect(url, connect_timeout=10) as conn:
        row = conn.execute("SELECT 40 + 2").fetchone()
        assert row is not None
        return int(row[0])


def main() -> None:
    configure_logging(FolioSettings(_env_file=None, log_level="warning"), stream=sys.stderr)  # type: ignore[call-arg]
    url = embedded_postgres(Path(sys.argv[1])).start()
    print(json.dumps({"pid": os.getpid(), "url": url, "answer": query(url)}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "query":
            print(json.dumps({"answer": query(url)}), flush=True)
        elif command == "exit":
            break


if __name__ == "__main__":
    main()
