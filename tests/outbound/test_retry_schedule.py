"""The retry schedule (contract 5): about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then `failed`,
each delay spread by a random jitter of at most +-10 %.

Many delays are drawn from the real `retry_delay`, so the jitter's presence, its bounds and its
symmetry are all seen without a clock or a seeded generator (the bounds below are far enough out
that a correct implementation never misses them).
"""

from statistics import fmean

import pytest

from config.outbound import conf
from config.outbound.services import retry_delay

SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
DRAWS = 2000


def delays(attempt_number: int) -> list[float]:
    drawn = [retry_delay(attempt_number=attempt_number) for _ in range(DRAWS)]
    assert all(delay is not None for delay in drawn)
    return [delay.total_seconds() for delay in drawn if delay is not None]


def test_the_schedule_is_the_contracts_and_ends_after_seven_retries() -> None:
    assert conf.retry_schedule_seconds() == SCHEDULE
    assert retry_delay(attempt_number=len(SCHEDULE) + 1) is None


@pytest.mark.parametrize(("attempt_number", "scheduled"), list(enumerate(SCHEDULE, start=1)))
def test_each_delay_is_jittered_within_ten_percent_of_its_step(attempt_number: int, scheduled: int) -> None:
    drawn = delays(attempt_number)

    assert all(scheduled * 0.9 <= delay <= scheduled * 1.1 for delay in drawn), (min(drawn), max(drawn))
    # Jittered, not fixed: the draws reach well into both halves of the +-10 % band ...
    assert len(set(drawn)) > DRAWS // 2
    assert min(drawn) < scheduled * 0.95 and max(drawn) > scheduled * 1.05
    # ... and centre on the step (a one-sided jitter would move the mean by about 5 %).
    assert fmean(drawn) == pytest.approx(scheduled, rel=0.01)


def test_the_steps_keep_their_order_whatever_the_jitter() -> None:
    drawn = {attempt_number: delays(attempt_number) for attempt_number in range(1, len(SCHEDULE) + 1)}

    for attempt_number in range(1, len(SCHEDULE)):
        if SCHEDULE[attempt_number] > SCHEDULE[attempt_number - 1]:
            assert max(drawn[attempt_number]) < min(drawn[attempt_number + 1]), attempt_number
        else:  # the two 10 h steps: the same band
            assert fmean(drawn[attempt_number]) == pytest.approx(fmean(drawn[attempt_number + 1]), rel=0.01)
