"""The bench's arguments and the settings its server runs with."""

import argparse

import pytest

from bench import cli
from bench import settings as bench_settings


def test_arguments_allow_running_parts() -> None:
    args = cli.parse_args(["--only", "scale", "--rows", "10000"])
    assert args.only == "scale" and args.rows == [10_000]
    assert cli.parse_args([]).rows == [10_000, 1_000_000]
    assert cli.parse_args([]).connections == [8, 64]
    with pytest.raises(argparse.ArgumentTypeError):
        cli.int_list("10k")
    with pytest.raises(argparse.ArgumentTypeError):
        cli.int_list("0")


def test_the_server_runs_with_production_settings_and_the_floor_on() -> None:
    env = cli.bench_environment(database_url="postgres://db", redis_url="redis://r/14")
    assert env["DEBUG"] == "false" and len(env["SECRET_KEY"]) >= 50
    assert env["DJANGO_SETTINGS_MODULE"] == "bench.settings"
    assert env["DATABASE_URL"] == "postgres://db" and env["REDIS_URL"] == "redis://r/14"
    assert bench_settings.ROOT_URLCONF == "bench.urls" and bench_settings.OUTBOUND_ALLOW_PRIVATE is True
    count, unit = bench_settings.ACTIONS_TRIGGER_RATE.split("/")
    assert int(count) >= 100_000 and unit == "s"
