"""A fake Telegram Bot API server for tests and demos (``Sandbox``) and its client."""

from sandbox.client import InlineButton, SandboxClient, SandboxError, SandboxMessage
from sandbox.server import Sandbox

__all__ = ["InlineButton", "Sandbox", "SandboxClient", "SandboxError", "SandboxMessage"]
