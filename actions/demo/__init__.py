"""Demo data for `make run`: the widget's bot and executions (contract 2), then triggered actions (4),
then an erased visitor (8)."""

from typing import Any

from actions.demo import privacy, triggers, widget


def seed(context: dict[str, Any]) -> list[str]:
    return [*widget.seed(context), *triggers.seed(context), *privacy.seed(context)]
