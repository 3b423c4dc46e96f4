"""The run's masking: one masker per run, holding its own secrets and every value masked above
it in the run tree, applied to each event's text fields before any sink sees it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from psr_engine.events.model import Event

if TYPE_CHECKING:
    from psr_engine.secrets.masker import Masker


def run_masker(values: Mapping[str, str], inherited: Sequence[str]) -> Masker | None:
    """The run's masker: its own secrets plus every value masked above it in the run tree."""
    if not values and not inherited:
        return None
    from psr_engine.secrets.masker import Masker

    return Masker([*inherited, *values.values()])


def event_masker(masker: Masker | None) -> Callable[[Event], Event] | None:
    if masker is None:
        return None

    def mask_event(event: Event) -> Event:
        # The task id too: a matrix value equal to a secret is part of it.
        return event.with_(
            task=masker.mask_text(event.task) if event.task else event.task,
            message=masker.mask_text(event.message) if event.message else event.message,
            reason=masker.mask_text(event.reason) if event.reason else event.reason,
            outputs=masker.mask_obj(event.outputs) if event.outputs else event.outputs,
            log_path=masker.mask_text(event.log_path) if event.log_path else event.log_path,
            data=masker.mask_obj(event.data) if event.data else event.data,
        )

    return mask_event
