"""Start-up time and idle memory of a running bot: `salesbot run` as a real process against the
sandbox, from spawning it to its first getUpdates, then its resident memory after 5 idle seconds.

Run: `python -m bench.startup` (PostgreSQL: SALESBOT_BENCH_DATABASE_URL=...).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ExternalSandbox, bench_runtime
from sandbox import SandboxClient

IDLE_SECONDS = 5


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmRSS")


async def main() -> dict[str, Any]:
    async with bench_runtime() as runtime:
        url = runtime.settings.database_url
        config = runtime.settings.config_path
        with ExternalSandbox() as sandbox:
            async with SandboxClient(sandbox.control_url) as client:
                env = {k: v for k, v in os.environ.items() if not k.startswith("SALESBOT_")}
                env.update(
                    SALESBOT_CONFIG=str(config), SALESBOT_DATABASE_URL=url,
                    SALESBOT_TOKEN="123456789:startup", SALESBOT_API_URL=sandbox.base_url,
                    SALESBOT_FILE_URL=sandbox.base_file_url, PTB_TIMEDELTA="true",
                )  # fmt: skip
                started = time.monotonic()
                process = subprocess.Popen(
                    [sys.executable, "-m", "bot", "run"], env=env, stderr=subprocess.DEVNULL
                )
                try:
                    first_poll = None
                    async with asyncio.timeout(60):
                        while first_poll is None:
                            polls = [
                                e for e in await client.events() if e["method"] == "getUpdates"
                            ]
                            first_poll = polls[0]["mono"] if polls else None
                            await asyncio.sleep(0.01)
                    await asyncio.sleep(IDLE_SECONDS)
                    memory = rss_mib(process.pid)
                finally:
                    process.terminate()
                    process.wait(timeout=30)
    return {
        "database": url.split(":")[0],
        "seconds_from_spawn_to_first_poll": round(first_poll - started, 2),
        "idle_rss_mib": memory,
        "idle_seconds_before_measuring": IDLE_SECONDS,
    }


if __name__ == "__main__":
    json.dump(asyncio.run(main()), sys.stdout, indent=2)
    print()
