"""Demo data for `make run`: the widget's bot and executions (contract 2), then triggered actions (4)."""

from typing import Any

from actions.demo import triggers, widget


def seed(context: dict[str, Any]) -> list[str]:
    return [*widget.seed(context), *triggers.seed(context)]
