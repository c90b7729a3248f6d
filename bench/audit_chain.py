#!/usr/bin/env python3
"""The audit page's chain badge at scale: what checking the hash chain costs a page.

One run, this machine. A fresh SQLite data directory gets ``--records`` audit records
(flag switches with a before and an after, as a busy project writes them), appended
through the store's own ``append_audit`` so every hash is real. Then, in this process:

- ``verify``: ``AuditService.verify``, the whole chain (what ``shipwise audit verify``,
  ``GET /api/v1/audit/verify`` and the page's "Check the chain" button run);
- ``page``: ``GET /projects/default/audit`` as a signed-in global admin, through the
  application in-process (no check on the page since the badge became a button).

    .venv/bin/python bench/audit_chain.py                    # 100,000 records, 5 repeats
    .venv/bin/python bench/audit_chain.py --records 20000 --repeats 3
    .venv/bin/python bench/audit_chain.py --data-dir /tmp/audit-100k   # seeded once, reused
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from shipwise.server.ports import AuditEntry
from shipwise.server.storage.database import Database

ADMIN = "sw_api_audit_bench_admin_token_0123456789abcdef"
BATCH = 5_000


def progress(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def seed(data_dir: Path, records: int) -> None:
    from shipwise.server.bootstrap import build
    from shipwise.server.settings import Settings

    build(Settings(data_dir=data_dir, admin_token=ADMIN, runner=False)).close()
    database = Database(f"sqlite:///{(data_dir / 'shipwise.db').resolve()}")
    try:
        done = 0
        while done < records:
            with database.transaction() as tx:
                for i in range(done, min(records, done + BATCH)):
                    tx.append_audit(
                        AuditEntry(
                            actor="token:bench",
                            action="flag.rollout",
                            target_type="flag",
                            target_key=f"flag-{i % 1000:04}",
                            project="default",
                            environment="production",
                            before={"enabled": True, "rollout": i % 100, "version": i},
                            after={"enabled": True, "rollout": (i + 1) % 100, "version": i + 1},
                            reason="bench",
                        )
                    )
            done = min(records, done + BATCH)
            progress(f"{done:,} records")
    finally:
        database.dispose()


def timed(repeats: int, run: object) -> list[float]:
    times = []
    for _ in range(repeats + 1):  # the first is a warm-up
        began = time.perf_counter()
        run()  # type: ignore[operator]
        times.append((time.perf_counter() - began) * 1000)
    return times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, help="seed here once and reuse it later")
    args = parser.parse_args()

    from shipwise.server.api.app import create_app
    from shipwise.server.bootstrap import build
    from shipwise.server.settings import Settings

    with tempfile.TemporaryDirectory(prefix="shipwise-audit-bench-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        if not (data_dir / "shipwise.db").exists():
            seed(data_dir, args.records)
        services = build(Settings(data_dir=data_dir, admin_token=ADMIN, runner=False))
        try:
            checked = services.audit.verify()[0]
            verify = timed(args.repeats, services.audit.verify)
            with TestClient(create_app(services)) as client:
                signed = client.post("/sign-in", data={"token": ADMIN}, follow_redirects=False)
                assert signed.status_code == 303, signed.text
                page = timed(args.repeats, lambda: client.get("/projects/default/audit"))
        finally:
            services.close()
    print(f"SQLite, {checked:,} audit records, {args.repeats} runs each (ms)")
    print(f"{'what':<34}{'median':>10}{'max':>10}")
    for name, times in (("verify the whole chain", verify), ("audit page (badge)", page)):
        print(f"{name:<34}{statistics.median(times):>10.1f}{max(times):>10.1f}")


if __name__ == "__main__":
    main()
