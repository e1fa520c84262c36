"""Run the sandbox on its own, e.g. for the demo: ``python -m sandbox --port 8081``."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading

from sandbox.server import Sandbox


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=None, help="accept only this bot token")
    parser.add_argument("--username", default="salesbot_demo_bot")
    parser.add_argument(
        "--inline-mode", action="store_true", help="getMe reports inline mode on (default: off)"
    )
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Sandbox(
        args.token, args.username, args.host, args.port, inline_mode=args.inline_mode
    ) as sandbox:
        print(f"Bot API base_url: {sandbox.base_url}")
        print(f"Control API:      {sandbox.control_url}")
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()


if __name__ == "__main__":
    main()
