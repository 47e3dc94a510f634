"""What a run reports: consistency of counts, shortfalls, the Markdown tables, the machine."""

import pytest

from bench import report


@pytest.mark.parametrize(
    ("rows", "consistent"),
    [(100, True), (108, True), (109, False), (99, False)],
)
def test_database_counts_may_exceed_wrk_counts_by_the_requests_in_flight(rows: int, consistent: bool) -> None:
    check = {"answered": 100, "in_flight_allowance": 8, "rows_completed": rows}
    assert report.check_consistent(check) is consistent


def test_changelist_growth_beyond_three_times_is_a_shortfall() -> None:
    slow = {"scale": {"checks": {"changelist_growth": {"value": 3.4, "goal": 3.0, "meets_goal": False}}}}
    fast = {"scale": {"checks": {"changelist_growth": {"value": 1.2, "goal": 3.0, "meets_goal": True}}}}
    assert report.shortfalls(slow) == ["changelist: 3.4x slower at the largest size (goal 3.0x)"]
    assert report.shortfalls(fast) == []


def test_the_scale_checks_missing_their_goals_are_shortfalls_in_their_own_words() -> None:
    checks = {
        "inbox_first_growth": {"value": 2.5, "goal": 2.0, "meets_goal": False, "says": "inbox: 2.5x slower"},
        "inbox_later_growth": {"value": 1.2, "goal": 2.0, "meets_goal": True, "says": "inbox: 1.2x"},
        "log_seq_scans": {"value": 1, "goal": 0, "meets_goal": False},
    }
    assert report.shortfalls({"scale": {"checks": checks}}) == [
        "inbox: 2.5x slower",
        "log_seq_scans: 1 (goal 0)",
    ]


def test_a_section_of_the_doc_is_replaced_and_the_rest_kept() -> None:
    text = "# Benchmarks\n\nprose\n<!-- bench:http:start -->\nold\n<!-- bench:http:end -->\nafter\n"
    updated = report.replace_section(text, "http", "new table")
    assert (
        updated
        == "# Benchmarks\n\nprose\n<!-- bench:http:start -->\nnew table\n<!-- bench:http:end -->\nafter\n"
    )
    appended = report.replace_section("# Benchmarks\n", "scale", "rows")
    assert appended.endswith("<!-- bench:scale:start -->\nrows\n<!-- bench:scale:end -->\n")


def test_markdown_tables_carry_the_machine_and_every_endpoint() -> None:
    machine = {
        "date": "2026-01-01T00:00:00Z",
        "commit": "abc1234",
        "cpu": "Test CPU",
        "cores": 2,
        "memory_gib": 4.0,
        "python": "3.12.1",
        "postgresql": "15.2",
        "redis": "7.0",
        "django": "6.1",
        "gunicorn": "23",
        "wrk": "wrk 4.1.0",
        "load_average_at_start": [0.5, 0.4, 0.3],
    }
    levels = {
        "8": {
            "floor": {
                "title": "floor",
                "requests_per_second": 900.0,
                "ratio": 1.0,
                "errors": 0,
                "latency_ms": {"p50": 1.0, "p95": 2.0, "p99": 3.0},
            },
            "result": {
                "title": "result post",
                "requests_per_second": 540.0,
                "ratio": 0.6,
                "meets_goal": True,
                "errors": 0,
                "latency_ms": {"p50": 1.5, "p95": 2.5, "p99": 3.5},
            },
        }
    }
    http = {
        "settings": {"workers": 4, "threads": 2, "seconds": 10, "slices": 5, "warmup_seconds": 2},
        "levels": levels,
        "queries": {"floor": {"queries": 2}, "result": {"queries": 3}},
        "skipped": {"respond": "not in this checkout yet"},
        "cpu": {
            "floor": {"python_us": 2000, "postgresql_us": 500, "total_us": 2500},
            "result": {"python_us": 3000, "postgresql_us": 1000, "total_us": 4000},
        },
    }
    http["settings"] |= {"cpu_requests": 200, "cpu_blocks": 3}
    table = report.http_markdown(http, machine)
    assert "3 alternating blocks of 200 requests" in table
    assert "| result post | 3,000 | 1,000 | 4,000 | 0.62 |" in table
    assert "Test CPU, 2 cores, 4.0 GiB" in table and "PostgreSQL 15.2" in table
    assert "| result post | 8 | 540 | 0.60 ✓ | 1.5 | 2.5 | 3.5 | 0 | 3 |" in table
    assert "skipped: not in this checkout yet" in table
    scale = {
        "levels": {
            "10000": {"figures": {"changelist": 40.0, "inbox_first": 30.0, "log_seq_scans": 0}},
            "1000000": {"figures": {"changelist": 60.0, "inbox_first": 45.0, "log_seq_scans": 0}},
        },
        "notes": ["a note"],
    }
    admin_table = report.scale_markdown(scale, machine, part="admin")
    assert (
        "| Contact Submissions changelist, first view (cache emptied) (ms) | 40.0 | 60.0 | 1.50x |"
        in admin_table
    )
    assert "10,000 rows" in admin_table and "- a note" in admin_table
    assert "Inbox" not in admin_table
    reads_table = report.scale_markdown(scale, machine, part="reads")
    assert "| Inbox of one person, first page (`/inbox/`) (ms) | 30.0 | 45.0 | 1.50x |" in reads_table
    assert "| delivery log, big tables read by a Seq Scan (tables) | 0.0 | 0.0 |  |" in reads_table
    # What no level measured has no row.
    assert "bulk replay" not in reads_table and "changelist" not in reads_table


def test_machine_facts_are_read_from_proc() -> None:
    assert report.cpu_model("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n") == "AMD EPYC 7B13"
    assert report.memory_gib("MemTotal:       24683520 kB\nMemFree: 1 kB\n") == 23.5
    assert report.memory_gib("") is None
