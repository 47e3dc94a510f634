"""What the bench starts and resets: only this machine, and each command's own peak memory."""

import pytest

from bench import processes


def test_the_bench_never_leaves_this_machine() -> None:
    processes.require_loopback("postgres://postgres@127.0.0.1:5432/loopback_bench")
    processes.require_loopback("redis://localhost:6379/14")
    with pytest.raises(SystemExit):
        processes.require_loopback("postgres://postgres@db.example.com:5432/loopback_bench")


def test_the_bench_database_is_reset_through_the_maintenance_database() -> None:
    url, name = processes.maintenance_url("postgres://postgres@127.0.0.1:5432/loopback_bench")
    assert url == "postgres://postgres@127.0.0.1:5432/postgres" and name == "loopback_bench"
    with pytest.raises(SystemExit):
        processes.maintenance_url('postgres://postgres@127.0.0.1:5432/x"; DROP')


def test_a_measured_command_reports_its_own_peak_memory() -> None:
    small = processes.measured_run(["python3", "-c", "pass"], timeout=30)
    big = processes.measured_run(
        ["python3", "-c", "x = bytearray(200 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096])"], timeout=30
    )
    assert small.returncode == 0 and big.returncode == 0
    # Its own peak, not the pytest process it was started from.
    assert small.peak_rss_mib < 60
    assert big.peak_rss_mib > small.peak_rss_mib + 150
    slow = processes.measured_run(["python3", "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert slow.timed_out
