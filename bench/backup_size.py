"""Backup and restore of a company's year on SQLite: the summary benchmark's data (1,000 reps in
10 teams, about 1 million visits, 100,000 receivables with payments and promises).

Reported: database size, seconds to back it up (online backup API, manifest with a checksum per
table, gzip) and the archive's size, and seconds to restore it (checksum, integrity check,
manifest comparison, migrations, row counts). Run: `python -m bench.backup_size [REPS]`.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import bench_runtime
from bench.summary_scale import TEAMS, config, seed
from bot.restore import restore
from services import backups
from services.backups import sqlite_path


async def main(reps: int) -> dict[str, Any]:
    async with bench_runtime(config(TEAMS)) as runtime:
        database = sqlite_path(runtime.settings.database_url)
        if database is None:
            raise SystemExit("this benchmark measures SQLite's online backup")
        seeded = await seed(runtime, reps)
        with tempfile.TemporaryDirectory(prefix="salesbot-backup-") as folder:
            started = time.perf_counter()
            made = await asyncio.to_thread(
                backups.create_backup, runtime.settings.database_url, Path(folder),
                now=runtime.clock.now(),
            )  # fmt: skip
            backup_s = time.perf_counter() - started
            started = time.perf_counter()
            restored = await restore(
                runtime.settings, made.path, into=Path(folder) / "restored.db", replace=False,
                now=runtime.clock.now(),
            )  # fmt: skip
            restore_s = time.perf_counter() - started
        return {
            **seeded,
            "database_mb": round(database.stat().st_size / 1e6, 1),
            "backup_seconds": round(backup_s, 1),
            "archive_mb": round(made.size / 1e6, 1),
            "restore_seconds": round(restore_s, 1),
            "rows_restored": sum(restored.rows.values()),
        }


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    json.dump(asyncio.run(main(count)), sys.stdout, indent=2)
    print()
