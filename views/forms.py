"""The buttons of the forms engine (handlers/forms.py): one codec for every form's choices.

A form button names the open form (its token), the prompt it belongs to (a sequence number that
grows with every question) and the chosen value; a button of an earlier prompt or another form
is stale, which the engine recognises by comparing token and sequence with the stored state.
"""

from __future__ import annotations

from dataclasses import dataclass

from views.callbacks import Callback


@dataclass(frozen=True)
class FormChoice:
    token: str
    seq: int
    value: str


FORM = Callback("f", FormChoice)
