"""Bot API request parameters from JSON, url-encoded or multipart bodies.

Form bodies carry every value as a string (PTB JSON-encodes complex fields), so the
typed getters convert the way the real Bot API does.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from sandbox.errors import bad_request
from sandbox.strictness import MARKUP_ERROR

_MAX_PART = 64 * 1024 * 1024
# Fields whose form value is a JSON document (decoded for the event log).
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "results",
        "commands",
        "scope",
        "allowed_updates",
        "reply_parameters",
        "link_preview_options",
        "menu_button",
        "button",
        "media",
    }
)


@dataclass(frozen=True)
class UploadedFile:
    """A file sent inside a multipart request."""

    field: str
    file_name: str
    mime_type: str
    data: bytes

    def metadata(self) -> dict[str, Any]:
        return {"file_name": self.file_name, "mime_type": self.mime_type, "size": len(self.data)}


class Params:
    """Typed access to the parameters of one Bot API call."""

    def __init__(self, values: dict[str, Any], files: dict[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    def has(self, name: str) -> bool:
        return self.values.get(name) is not None or name in self.files

    def get_str(self, name: str, *, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise bad_request(f"{name} is empty")
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def get_int(self, name: str, *, required: bool = False) -> int | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise bad_request(f"{name} is empty")
            return None
        if isinstance(value, bool):
            raise bad_request(f"{name} is invalid")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"{name} is invalid") from None

    def get_chat_id(self) -> int | None:
        """The required chat_id; None for ``@username`` forms, which name no private chat."""
        value = self.get_str("chat_id", required=True)
        try:
            return int(value or "")
        except ValueError:
            return None

    def get_float(self, name: str, *, required: bool = False) -> float | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise bad_request(f"{name} is empty")
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"{name} is invalid") from None

    def get_bool(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1")
        return bool(value)

    def get_json(self, name: str) -> Any:
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            if name == "reply_markup":
                raise bad_request(MARKUP_ERROR) from None
            raise bad_request(f"can't parse {name} JSON object") from None

    def get_input_file(self, name: str) -> UploadedFile | str | None:
        """An uploaded file (direct or ``attach://``) or a file_id/URL string."""
        if name in self.files:
            return self.files[name]
        value = self.get_str(name)
        if value is not None and value.startswith("attach://"):
            attached = self.files.get(value.removeprefix("attach://"))
            if attached is None:
                raise bad_request(f"can't find attached file {value!r}")
            return attached
        return value

    def get_input_file_value(self, value: object) -> UploadedFile | str | None:
        """A file named inside a JSON field (an InputMedia's ``media``): ``attach://`` or an id."""
        if not isinstance(value, str):
            return None
        if value.startswith("attach://"):
            attached = self.files.get(value.removeprefix("attach://"))
            if attached is None:
                raise bad_request(f"can't find attached file {value!r}")
            return attached
        return value

    def for_log(self) -> dict[str, Any]:
        """JSON-able view for the event log: JSON fields decoded, files as metadata."""
        view: dict[str, Any] = {}
        for name, value in self.values.items():
            view[name] = value
            if name in JSON_FIELDS and isinstance(value, str):
                with contextlib.suppress(json.JSONDecodeError):
                    view[name] = json.loads(value)
        for name, upload in self.files.items():
            view[name] = upload.metadata()
        return view


async def read_params(request: Request) -> Params:
    values: dict[str, Any] = dict(request.query_params)
    files: dict[str, UploadedFile] = {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        body = await request.body()
        if body.strip():
            try:
                data = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise bad_request("can't parse JSON request body") from None
            if not isinstance(data, dict):
                raise bad_request("can't parse JSON request body")
            values.update(data)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        async with request.form(max_part_size=_MAX_PART) as form:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    files[key] = UploadedFile(
                        field=key,
                        file_name=value.filename or key,
                        mime_type=value.content_type or "application/octet-stream",
                        data=await value.read(),
                    )
                else:
                    values[key] = value
    return Params(values, files)
