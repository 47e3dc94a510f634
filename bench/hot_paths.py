"""The HTTP part: the floor and each hot path under wrk, alternating, at a few concurrency levels.

Fresh ids are seeded for every run, the queries of one request of each endpoint are counted
in-process, then gunicorn serves the load and the database and the receiver are asked what
happened, against what wrk counted.
"""

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actions.models import ActionExecution, ActionTrigger
from bench import cpu, load, probes, report, seeding
from bench.processes import (
    RESULTS_DIR,
    Budget,
    Processes,
    free_port,
    http_get,
    log,
    stopwatch,
    wait_until_ready,
)
from notifications.models import Notification

TRIGGER_ACTION_ID = "bench-hook"
PROBE_REQUESTS = 3
# The inbox's people: one answers the form, one reads a list of a constant size.
ANSWERER = "bench-answerer"
READER = "bench-reader"


@dataclass(frozen=True)
class Run:
    label: str
    endpoint: load.Endpoint
    connections: int
    seconds: float
    measured: bool
    # The endpoint a floor slice is the reference for ("" for every other run).
    pair: str = ""


def schedule(
    *,
    floor: load.Endpoint,
    endpoints: list[load.Endpoint],
    connections: list[int],
    seconds: float,
    warmup: float,
    slices: int,
) -> list[Run]:
    """Warm every endpoint up, then per level and endpoint: floor and endpoint in turn, `slices` times.

    A shared machine drifts by tens of percent within a minute (someone's test suite starts or
    ends). Alternating short slices of the floor and of the endpoint gives both the same drift, so
    it cancels out of their ratio; each gets `seconds` in all.
    """
    everything = [floor, *endpoints]
    runs = [Run(f"warmup-{e.name}", e, min(8, connections[0]), warmup, False) for e in everything]
    # wrk takes whole seconds.
    part = float(max(1, round(seconds / slices)))
    for level in connections:
        for endpoint in endpoints:
            for number in range(1, slices + 1):
                runs.append(
                    Run(
                        f"floor-for-{endpoint.name}-c{level}-{number}",
                        floor,
                        level,
                        part,
                        True,
                        endpoint.name,
                    )
                )
                runs.append(Run(f"{endpoint.name}-c{level}-{number}", endpoint, level, part, True))
    return runs


class HttpBench:
    def __init__(self, args: argparse.Namespace, owners: Any, budget: Budget, processes: Processes) -> None:
        self.args = args
        self.owners = owners
        self.budget = budget
        self.processes = processes
        self.ids_dir = RESULTS_DIR / "ids"
        self.skipped: dict[str, str] = {}
        # The notification each answering endpoint's fresh ids are cloned from.
        self.templates: dict[str, str] = {}

    def endpoints(self, receiver_url: str) -> list[load.Endpoint]:
        """The hot paths, with what they need seeded first: the action the triggers fire, the
        notifications respond and the inbox's form clone, the inbox's people and sessions."""
        key, owners = self.owners.service_key, self.owners
        status, payload = probes.api_call(
            "put",
            f"/actions/{TRIGGER_ACTION_ID}",
            {"target_url": f"{receiver_url}/hook", "fire_on": "true", "timeout_ms": 5000},
            key,
        )
        if status not in (200, 201):
            raise RuntimeError(
                f"PUT /actions/{TRIGGER_ACTION_ID} answered {status}: {json.dumps(payload)[:200]}"
            )
        self.templates = {
            "respond": seeding.notification_template(service_key=key, username=owners.person.username),
        }
        # The form's answers go to a person of their own, the reads to another whose inbox keeps
        # its size however many answers the run records.
        answerer = {"username": ANSWERER, "password": seeding.seed_person(username=ANSWERER)}
        reader = {"username": READER, "password": seeding.seed_person(username=READER)}
        self.templates["inbox_answer"] = seeding.notification_template(service_key=key, username=ANSWERER)
        page = seeding.seed_reader_inbox(service_key=key, username=READER)
        reading = probes.inbox_login(**reader)
        return [
            load.result_endpoint(),
            load.respond_endpoint(user_token=owners.user_token, action_id="decide", response_data=True),
            load.dry_run_endpoint(service_key=key, action_id=TRIGGER_ACTION_ID),
            load.trigger_endpoint(service_key=key, action_id=TRIGGER_ACTION_ID),
            load.inbox_list_endpoint(session=reading),
            load.inbox_page_endpoint(session=reading, notification_id=page),
            load.inbox_answer_endpoint(
                session=probes.inbox_login(**answerer), action_id="decide", response_data="true"
            ),
        ]

    def fresh_ids(self, endpoint: load.Endpoint, count: int, tag: str) -> list[str]:
        if endpoint.name == "floor":
            return seeding.seed_floor_bots(service=self.owners.service, count=count, tag=tag)
        if endpoint.name == "result":
            return seeding.seed_pending_executions(bot=self.owners.bot, count=count, tag=tag)
        if endpoint.name in self.templates:
            return seeding.clone_notifications(
                template_pk=self.templates[endpoint.name],
                count=count,
                overrides={"created_at": "now() - g * interval '1 millisecond'"},
            )
        raise ValueError(f"{endpoint.name} takes no fresh ids")

    def run(self) -> dict[str, Any]:
        receiver_port_process = self.processes.start("receiver", [sys.executable, "-m", "bench.receiver"])
        assert receiver_port_process.stdout is not None
        receiver_port = int(receiver_port_process.stdout.readline().decode().strip())
        receiver_url = f"http://127.0.0.1:{receiver_port}"
        log(f"receiver on {receiver_url}")

        floor = load.floor_endpoint()
        endpoints = self.endpoints(receiver_url)
        runs = schedule(
            floor=floor,
            endpoints=endpoints,
            connections=self.args.connections,
            seconds=self.args.seconds,
            warmup=self.args.warmup,
            slices=self.args.slices,
        )
        planned = sum(run.seconds + 2 for run in runs)
        log(f"{len(runs)} wrk runs, about {planned:.0f} s of load")

        id_files: dict[str, Path] = {}
        probe_ids: dict[str, list[str]] = {}
        with stopwatch("fresh ids seeded"):
            for endpoint in [floor, *endpoints]:
                if endpoint.fresh_ids:
                    probe_ids[endpoint.name] = self.fresh_ids(
                        endpoint, PROBE_REQUESTS, f"probe-{endpoint.name}"
                    )
            for run in runs:
                if run.endpoint.fresh_ids:
                    count = load.ids_needed(seconds=run.seconds, max_rate=self.args.max_rate)
                    ids = self.fresh_ids(run.endpoint, count, run.label)
                    id_files[run.label] = seeding.write_ids(self.ids_dir / f"{run.label}.txt", ids)
            for table in seeding.bench_tables():
                seeding.analyze(table)

        queries: dict[str, Any] = {}
        with stopwatch("queries per request counted"):
            for endpoint in [floor, *endpoints]:
                ids = probe_ids.get(endpoint.name) or ["-"] * PROBE_REQUESTS
                counted = probes.count_queries(endpoint=endpoint, fresh_ids=ids)
                queries[endpoint.name] = counted
                log(f"  {endpoint.name}: {counted['queries']} queries, status {counted['status']}")

        with stopwatch("CPU per request measured in-process"):
            cpu_measured = cpu.cpu_per_request(
                endpoints=[floor, *endpoints],
                fresh_ids=self.fresh_ids,
                requests=self.args.cpu_requests,
                blocks=self.args.cpu_blocks,
            )
        for name, cost in cpu_measured.items():
            log(f"  {name}: {cost['total_us']} µs ({cost['python_us']} Python)")

        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        gunicorn = self.processes.start(
            "gunicorn",
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "config.wsgi:application",
                f"--workers={self.args.workers}",
                "--worker-class=sync",
                f"--bind=127.0.0.1:{port}",
                "--backlog=2048",
                "--timeout=60",
                "--graceful-timeout=5",
                "--log-level=warning",
            ],
            log_path=RESULTS_DIR / "gunicorn.log",
        )
        wait_until_ready(f"{base_url}/readyz", timeout=60)
        log(f"gunicorn ({self.args.workers} workers) on {base_url}")

        results: list[tuple[Run, load.WrkRun]] = []
        load_started = os.getloadavg()
        for run in runs:
            if self.budget.left() < run.seconds + 30:
                self.skipped[run.label] = "out of time budget"
                log(f"{run.label}: skipped, out of time budget")
                continue
            measured = load.run_wrk(
                endpoint=run.endpoint,
                base_url=base_url,
                connections=run.connections,
                seconds=run.seconds,
                threads=self.args.threads,
                ids_file=id_files.get(run.label),
                out_file=RESULTS_DIR / "wrk" / f"{run.label}.json",
            )
            results.append((run, measured))
            log(f"{run.label}: {describe(measured)}")
            # The server still works through what wrk's closed connections had sent: wait for
            # it, so that the next slice does not pay for this one (on a busy machine, seconds).
            wait_until_ready(f"{base_url}/healthz", timeout=60)
        load_finished = os.getloadavg()
        # Only once the server is stopped has every trigger it accepted reached the receiver.
        self.processes.stop(gunicorn)
        receiver_count = int(http_get(f"{receiver_url}/count")[1] or 0)
        self.processes.stop(receiver_port_process)

        return {
            "settings": {
                "workers": self.args.workers,
                "threads": self.args.threads,
                "connections": self.args.connections,
                "seconds": self.args.seconds,
                "slices": self.args.slices,
                "warmup_seconds": self.args.warmup,
                "max_rate": self.args.max_rate,
                "cpu_requests": self.args.cpu_requests,
                "cpu_blocks": self.args.cpu_blocks,
            },
            "load_average": {"before": list(load_started), "after": list(load_finished)},
            "levels": levels_from(results, titles={e.name: e.title for e in [floor, *endpoints]}),
            "runs": [{"label": run.label, **measured.as_dict()} for run, measured in results],
            "queries": queries,
            "cpu": cpu_measured,
            "checks": self.checks(results, receiver_count),
            "skipped": self.skipped,
            "server_log": server_log_summary(RESULTS_DIR / "gunicorn.log"),
        }

    def checks(self, results: list[tuple[Run, load.WrkRun]], receiver_count: int) -> dict[str, Any]:
        """What the database and the receiver say happened, against what wrk counted as answered."""

        def ok(name: str) -> int:
            return sum(measured.ok for run, measured in results if run.endpoint.name == name)

        def in_flight(name: str) -> int:
            """Requests the server may have finished after wrk stopped counting: one per connection."""
            return sum(run.connections for run, _ in results if run.endpoint.name == name)

        def answered(name: str, **counts: int) -> dict[str, int]:
            # The in-process requests (the query count's, the CPU measure's) answered too.
            in_process = PROBE_REQUESTS + self.args.cpu_requests * self.args.cpu_blocks
            return {"answered": ok(name) + in_process, "in_flight_allowance": in_flight(name), **counts}

        responded = Notification.objects.filter(status="responded")
        return {
            "result": answered(
                "result",
                rows_completed=ActionExecution.objects.filter(
                    visitor_id__startswith="bench-", result__isnull=False
                ).count(),
            ),
            "respond": answered(
                "respond", rows_responded=responded.filter(responder=self.owners.person).count()
            ),
            "trigger": answered(
                "trigger",
                rows_triggered=ActionTrigger.objects.filter(status="triggered").count(),
                receiver_got=receiver_count,
            ),
            "inbox_answer": answered(
                "inbox_answer", rows_responded=responded.filter(responder__username=ANSWERER).count()
            ),
        }


def describe(measured: load.WrkRun) -> str:
    line = (
        f"{measured.requests_per_second:,.0f} req/s, p50 {measured.latency_ms['p50']} ms, "
        f"p99 {measured.latency_ms['p99']} ms, errors {measured.errors}"
    )
    if measured.errors:
        failure = measured.first_failure
        line += f" (first: {failure['status']} {failure['body'][:120]}, sockets {measured.socket_errors})"
    return line


def combined(runs: list[load.WrkRun]) -> dict[str, Any]:
    """Slices of one endpoint as one run: requests over time; latency percentiles weighted by requests."""
    requests = sum(run.requests for run in runs)
    seconds = sum(run.seconds for run in runs)
    latency = {
        key: round(sum(run.latency_ms[key] * run.requests for run in runs) / requests, 2) if requests else 0.0
        for key in runs[0].latency_ms
    }
    return {
        "requests_per_second": round(requests / seconds, 1) if seconds else 0.0,
        "requests": requests,
        "seconds": round(seconds, 2),
        "latency_ms": latency,
        "errors": sum(run.errors for run in runs),
        "slices_requests_per_second": [round(run.requests_per_second, 1) for run in runs],
    }


def levels_from(
    results: list[tuple[Run, load.WrkRun]], *, titles: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Per concurrency level: the floor over all its slices, each endpoint against its own floor slices."""
    levels: dict[str, dict[str, Any]] = {}
    for connections in sorted({run.connections for run, _ in results if run.measured}):
        at_level = [
            (run, measured) for run, measured in results if run.measured and run.connections == connections
        ]
        floor_runs = [measured for run, measured in at_level if run.endpoint.name == "floor"]
        entries: dict[str, Any] = {}
        if floor_runs:
            entries["floor"] = {"title": titles["floor"], **combined(floor_runs), "ratio": 1.0}
        names = list(dict.fromkeys(run.endpoint.name for run, _ in at_level if run.endpoint.name != "floor"))
        for name in names:
            own = combined([measured for run, measured in at_level if run.endpoint.name == name])
            paired = [measured for run, measured in at_level if run.pair == name]
            reference = combined(paired)["requests_per_second"] if paired else 0.0
            value = report.ratio(own["requests_per_second"], reference)
            entries[name] = {
                "title": titles[name],
                **own,
                "floor_requests_per_second": reference,
                "ratio": value,
                "meets_goal": value is not None and value >= load.FLOOR_RATIO_GOAL and own["errors"] == 0,
            }
        levels[str(connections)] = entries
    return levels


def server_log_summary(path: Path) -> dict[str, int]:
    """Counts of the server's own log lines by level and of 5xx answers (its log is JSON lines)."""
    counts: dict[str, int] = {"lines": 0, "errors": 0, "status_5xx": 0, "not_json": 0}
    if not path.exists():
        return counts
    with path.open(errors="replace") as lines:
        for line in lines:
            counts["lines"] += 1
            try:
                entry = json.loads(line)
            except ValueError:
                counts["not_json"] += 1
                continue
            if entry.get("level") in {"ERROR", "CRITICAL"}:
                counts["errors"] += 1
            if isinstance(entry.get("status"), int) and entry["status"] >= 500:
                counts["status_5xx"] += 1
    return counts
