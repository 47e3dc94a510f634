"""What a bench run found: the machine it ran on, the JSON file and the Markdown tables."""

import json
import os
import platform
import re
import shutil
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.load import FLOOR_RATIO_GOAL

# The changelist at a million rows may take at most this many times its time at ten thousand.
SCALE_RATIO_GOAL = 3.0


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def cpu_model(cpuinfo: str) -> str:
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in {"model name", "Model", "Hardware"} and value.strip():
            return value.strip()
    return platform.processor() or platform.machine()


def memory_gib(meminfo: str) -> float | None:
    match = re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.MULTILINE)
    return round(int(match.group(1)) / 1024 / 1024, 1) if match else None


def _command_line(command: list[str]) -> str:
    if shutil.which(command[0]) is None:
        return ""
    completed = subprocess.run(command, capture_output=True, text=True, check=False, timeout=10)  # noqa: S603
    output = (completed.stdout or completed.stderr).strip()
    return output.splitlines()[0] if output else ""


def machine_info(*, postgres_version: str, redis_version: str) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "cpu": cpu_model(_read("/proc/cpuinfo")),
        "cores": os.cpu_count(),
        "memory_gib": memory_gib(_read("/proc/meminfo")),
        "os": platform.platform(),
        "python": platform.python_version(),
        "postgresql": postgres_version,
        "redis": redis_version,
        "django": metadata.version("django"),
        "gunicorn": metadata.version("gunicorn"),
        "wrk": _command_line(["wrk", "-v"]).split(" Copyright")[0],
        "commit": _command_line(["git", "rev-parse", "--short", "HEAD"]),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
    }


def ratio(value: float, reference: float) -> float | None:
    return round(value / reference, 2) if reference else None


def _number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _machine_line(machine: dict[str, Any]) -> str:
    return (
        f"{machine['date']}, commit `{machine['commit'] or '?'}`: {machine['cpu']}, "
        f"{machine['cores']} cores, "
        f"{machine['memory_gib']} GiB; Python {machine['python']}, PostgreSQL {machine['postgresql']}, "
        f"Redis {machine['redis']}, Django {machine['django']}, gunicorn {machine['gunicorn']}, "
        f"{machine['wrk'] or 'wrk'}; load average at start {machine['load_average_at_start']}"
    )


def http_markdown(http: dict[str, Any], machine: dict[str, Any]) -> str:
    settings = http["settings"]
    lines = [
        f"Run of {_machine_line(machine)}.",
        "",
        f"gunicorn `config.wsgi`, {settings['workers']} sync workers, DEBUG off; "
        f"wrk with {settings['threads']} threads after a {settings['warmup_seconds']:g} s warm-up of each "
        f"endpoint. Each endpoint ran {settings['seconds']:g} s per level in {settings['slices']} slices, "
        "each right after a slice of the floor of the same length; `x floor` is its requests/s over "
        "those floor slices' (the floor row shows all floor slices of the level). Latency percentiles "
        f"are the slices', weighted by requests. Goal: ≥ {FLOOR_RATIO_GOAL} x floor and no errors "
        "(non-2xx, socket errors, an id used twice).",
        "",
        "| endpoint | connections | req/s | x floor | p50 ms | p95 ms | p99 ms | errors | SQL/request |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for connections, level in http["levels"].items():
        for name, entry in level.items():
            queries = http["queries"].get(name, {}).get("queries")
            verdict = ""
            if entry.get("meets_goal") is False:
                verdict = " ✗"
            elif entry.get("meets_goal") is True:
                verdict = " ✓"
            latency = entry["latency_ms"]
            lines.append(
                f"| {entry['title']} | {connections} | {_number(entry['requests_per_second'])} | "
                f"{_number(entry.get('ratio'), 2)}{verdict} | {_number(latency['p50'], 1)} | "
                f"{_number(latency['p95'], 1)} | {_number(latency['p99'], 1)} | {entry['errors']} | "
                f"{_number(queries)} |"
            )
    for name, reason in http.get("skipped", {}).items():
        lines.append(f"| {name} | - | - | - | - | - | - | - | skipped: {reason} |")
    return "\n".join(lines + _cpu_lines(http))


def _cpu_lines(http: dict[str, Any]) -> list[str]:
    measured = http.get("cpu")
    if not measured:
        return []
    settings = http["settings"]
    titles = {name: entry["title"] for level in http["levels"].values() for name, entry in level.items()}
    floor = measured["floor"]["total_us"]
    lines = [
        "",
        f"CPU per request, in-process (`bench/cpu.py`): {settings['cpu_blocks']} alternating blocks of "
        f"{settings['cpu_requests']} requests of each endpoint, the lowest block kept; the server's "
        "Python and its PostgreSQL backend (not the receiver's, not gunicorn's or the kernel's work "
        "outside the application, which every endpoint pays alike under wrk).",
        "",
        "| endpoint | Python µs | PostgreSQL µs | CPU µs | x floor (CPU) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, entry in measured.items():
        lines.append(
            f"| {titles.get(name, name)} | {_number(entry['python_us'])} | "
            f"{_number(entry['postgresql_us'])} | {_number(entry['total_us'])} | "
            f"{_number(floor / entry['total_us'], 2)} |"
        )
    return lines


# The operator commands (bench/scale_commands.py): a process of its own each; "command" is its own
# time, without Django's start-up; rates are of the command's own time.
COMMAND_MEASURES = (
    (
        "expire",
        "`expire_notifications` (all rows due: a third expire, a third default, a third escalate)",
        "s",
    ),
    ("expire_command", "`expire_notifications`, the command itself", "s"),
    ("expire_rate", "`expire_notifications`, due rows done per second", "rows/s"),
    ("expire_rss", "`expire_notifications`, peak RSS", "MiB"),
    (
        "purge_webhook_payloads",
        "`purge_data`, webhook payloads alone (delivered 40 days ago, 1 KiB answers)",
        "s",
    ),
    ("purge_webhook_payloads_rate", "`purge_data`, payloads purged per second", "rows/s"),
    ("purge_webhook_payloads_rss", "`purge_data`, payloads, peak RSS", "MiB"),
    ("purge_pair", "two `purge_data` at once over as many payloads (wall time)", "s"),
    ("purge_pair_rss", "two `purge_data` at once, peak RSS of either", "MiB"),
    (
        "purge_notifications",
        "`purge_data`, answered notifications alone (with recipients, events, attempts)",
        "s",
    ),
    ("purge_notifications_rate", "`purge_data`, notifications purged per second", "rows/s"),
    ("purge_notifications_rss", "`purge_data`, notifications, peak RSS", "MiB"),
    ("purge_executions", "`purge_data`, executions alone (over rows ÷ 4 visitors)", "s"),
    ("purge_executions_rate", "`purge_data`, executions purged per second", "rows/s"),
    ("purge_executions_rss", "`purge_data`, executions, peak RSS", "MiB"),
    ("erase_p50_ms", "`erase_visitor`, an ordinary visitor (9 rows), the command itself, p50", "ms"),
    ("erase_p95_ms", "`erase_visitor`, an ordinary visitor, the command itself, p95", "ms"),
    ("erase_process_p50", "`erase_visitor`, an ordinary visitor, its process, p50", "s"),
    ("erase_heavy_command", "`erase_visitor`, the visitor with rows ÷ 100 rows, the command itself", "s"),
    ("erase_heavy", "`erase_visitor`, that visitor, its process", "s"),
    ("erase_rss", "`erase_visitor`, peak RSS (any run)", "MiB"),
    ("startup", "a command's Django start-up (median of the erasures)", "s"),
)


def _admin_measures(scale: dict[str, Any]) -> tuple[tuple[str, str, str], ...]:
    # The summary is timed at its own admin URL when the admin has one, else as a selector call.
    summary_url = (scale.get("admin_urls") or {}).get("summary")
    summary = "its admin URL, first view" if summary_url else "selector"
    return (
        ("changelist", "Contact Submissions changelist, first view (cache emptied)", "ms"),
        ("changelist_warm", "changelist, reload (cache warm)", "ms"),
        ("changelist_filtered", "changelist, filtered by result and delivery status, first view", "ms"),
        ("changelist_search", "changelist, search by visitor id, first view", "ms"),
        ("summary", f"summary of the whole set ({summary})", "ms"),
        ("summary_filtered", "summary, filtered by result and delivery status, first view", "ms"),
        ("export", "CSV export", "s"),
        ("export_rss", "CSV export, peak RSS", "MiB"),
    )


def _part_intro(part: str) -> str:
    if part == "admin":
        return (
            "Admin pages: median of a few requests with a staff session, in-process (Django test Client), "
            "after one unmeasured request; the CSV export in a process of its own, with its peak RSS. "
            f"Goal: the changelist at the largest size within {SCALE_RATIO_GOAL:g}x its time at the smallest."
        )
    if part == "reads":
        return (
            "Inbox and delivery log: one person's inbox of that many notifications (20 of them open at "
            "every size) and that many events of one service among as many of others', over 30 days; "
            "median of a few "
            "requests in-process with the person's session or the service key; `CPU` is what the process "
            "spent per request (the wall time also waits for a core on a shared machine); `in the "
            "database` is the Execution Time of `EXPLAIN (ANALYZE, BUFFERS)` of each query of the request, "
            f"summed. Goal: the inbox at the largest size within {READS_GROWTH_GOAL:g}x its time at the "
            "smallest (each page's fastest request, the least disturbed by other work); each delivery log "
            f"page under {READS_DATABASE_MS_GOAL:g} ms in the database, no Seq Scan of the events."
        )
    return (
        "Operator commands: each run alone in a process of its own from freshly seeded rows; the "
        "command's own time is without Django's start-up; peak RSS is that process's. Goal: bounded "
        "memory (peak RSS flat from the smallest size to the largest)."
    )


def scale_markdown(scale: dict[str, Any], machine: dict[str, Any], *, part: str) -> str:
    """The table of one scale part (admin, reads or commands): its own section of the doc, so a run
    of some parts leaves the others' last tables in place."""
    measures = {
        "admin": _admin_measures(scale),
        "reads": READS_MEASURES,
        "commands": COMMAND_MEASURES,
    }[part]
    levels = list(scale["levels"])
    header = "| measure | " + " | ".join(f"{int(rows):,} rows" for rows in levels) + " | largest ÷ smallest |"
    lines = [
        f"Run of {_machine_line(machine)}.",
        "",
        _part_intro(part),
        "",
        header,
        "|---|" + "---:|" * (len(levels) + 1),
    ]
    for measure, title, unit in measures:
        values = [scale["levels"][rows].get("figures", {}).get(measure) for rows in levels]
        if all(value is None for value in values):
            continue
        cells = [_number(value, 1) for value in values]
        growth = ""
        if values[0] and values[-1] is not None and len(values) > 1:
            growth = f"{values[-1] / values[0]:.2f}x"
        lines.append(f"| {title} ({unit}) | " + " | ".join(cells) + f" | {growth} |")
    for note in scale.get("notes", []):
        lines.append("")
        lines.append(f"- {note}")
    return "\n".join(lines)


READS_GROWTH_GOAL = 2.0
READS_DATABASE_MS_GOAL = 10.0
READS_MEASURES = (
    ("inbox_first", "Inbox of one person, first page (`/inbox/`)", "ms"),
    ("inbox_first_cpu", "inbox, first page, CPU of the process", "ms"),
    ("inbox_first_db", "inbox, first page, in the database", "ms"),
    ("inbox_later", "inbox, page 20", "ms"),
    ("inbox_pending", "inbox, the open ones (`?status=pending`)", "ms"),
    ("inbox_responded", "inbox, the answered ones (`?status=responded`)", "ms"),
    ("inbox_expired", "inbox, the expired ones (`?status=expired`)", "ms"),
    ("inbox_responded_later", "inbox, the answered ones, page 20", "ms"),
    ("inbox_notification", "inbox, a notification's page", "ms"),
    ("log_first", "Delivery log, first page (`GET /api/v1/webhook-events`)", "ms"),
    ("log_first_cpu", "delivery log, first page, CPU of the process", "ms"),
    ("log_first_db", "delivery log, first page, in the database", "ms"),
    ("log_pending", "delivery log, `?status=pending`", "ms"),
    ("log_delivered", "delivery log, `?status=delivered`", "ms"),
    ("log_failed", "delivery log, `?status=failed`", "ms"),
    ("log_type", "delivery log, `?type=notification.escalated`", "ms"),
    ("log_since", "delivery log, `?since=` 7 days ago", "ms"),
    ("log_failed_since", "delivery log, `?status=failed&since=` 7 days ago", "ms"),
    ("log_cursor_20k", "delivery log, the cursor page 2 % into the log (20,000 events at a million)", "ms"),
    ("log_cursor_500k", "delivery log, the cursor page half-way (500,000 events at a million)", "ms"),
    ("log_cursor_500k_db", "delivery log, that page in the database", "ms"),
    ("log_detail", "delivery log, one failed event with its attempts", "ms"),
    ("log_slowest_db", "delivery log, the slowest page in the database", "ms"),
    ("log_seq_scans", "delivery log, big tables read by a Seq Scan", "tables"),
    ("log_replay", "bulk replay of every failed event (`POST /api/v1/webhook-events/replay`)", "ms"),
    ("log_replay_queued", "bulk replay, events queued", "events"),
)


def check_consistent(check: dict[str, int]) -> bool:
    """Each count is what wrk saw answered, plus at most the requests still in flight when it stopped."""
    answered, allowance = check["answered"], check["in_flight_allowance"]
    counts = [value for key, value in check.items() if key not in {"answered", "in_flight_allowance"}]
    return all(0 <= value - answered <= allowance for value in counts)


def shortfalls(results: dict[str, Any]) -> list[str]:
    """Each figure of the run that missed its goal, in a sentence."""
    found: list[str] = []
    http = results.get("http", {})
    for connections, level in http.get("levels", {}).items():
        for name, entry in level.items():
            if name == "floor":
                if entry["errors"]:
                    found.append(f"floor at {connections} connections: {entry['errors']} errors")
                continue
            if not entry.get("meets_goal"):
                found.append(
                    f"{name} at {connections} connections: {entry['ratio']} x floor "
                    f"(goal {FLOOR_RATIO_GOAL}), {entry['errors']} errors"
                )
    for name, check in http.get("checks", {}).items():
        if not check_consistent(check):
            found.append(
                f"{name}: what the database or receiver saw does not match what wrk counted: {check}"
            )
    for name, check in results.get("scale", {}).get("checks", {}).items():
        if check["meets_goal"]:
            continue
        if name == "changelist_growth":
            found.append(f"changelist: {check['value']}x slower at the largest size (goal {check['goal']}x)")
        else:
            found.append(check.get("says") or f"{name}: {check['value']} (goal {check['goal']})")
    return found


def replace_section(text: str, name: str, content: str) -> str:
    """`text` with the part between `<!-- bench:NAME:start -->` and `:end -->` set to `content`."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{content.strip()}\n{end}"
    if start in text and end in text:
        before, _, rest = text.partition(start)
        _, _, after = rest.partition(end)
        return before + block + after
    return text.rstrip() + f"\n\n{block}\n"


def write_json(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
