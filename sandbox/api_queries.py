"""Bot API methods answering callback queries and inline queries."""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request
from sandbox.params import Params
from sandbox.state import SandboxState
from sandbox.strictness import QUERY_TOO_OLD, check_callback_answer_text, check_inline_results


async def answer_callback_query(state: SandboxState, params: Params) -> bool:
    query = state.callback_queries.get(params.get_str("callback_query_id", required=True) or "")
    if query is None or query.answer is not None:
        raise bad_request(QUERY_TOO_OLD)
    text = params.get_str("text")
    check_callback_answer_text(text)
    query.answer = {
        "text": text,
        "show_alert": params.get_bool("show_alert"),
        "url": params.get_str("url"),
        "cache_time": params.get_int("cache_time") or 0,
    }
    return True


async def answer_inline_query(state: SandboxState, params: Params) -> bool:
    query = state.inline_queries.get(params.get_str("inline_query_id", required=True) or "")
    if query is None or query.answer is not None:
        raise bad_request(QUERY_TOO_OLD)
    results = check_inline_results(params.get_json("results"), inline_mode=state.inline_mode)
    answer: dict[str, Any] = {
        "results": results,
        "cache_time": params.get_int("cache_time"),
        "is_personal": params.get_bool("is_personal"),
        "next_offset": params.get_str("next_offset"),
        "button": params.get_json("button"),
    }
    query.answer = answer
    return True
