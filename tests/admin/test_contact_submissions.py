"""Contact Submissions (contract 6): read-only, masked, filtered, searched, summarised, exported."""

import csv
import io
import re
from collections.abc import Iterable

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

from actions.admin import visitor_prefix_range
from actions.models import ExecutionKind, ExecutionResult
from tests.actions.execution_factories import ExecutionFactory
from tests.admin.conftest import CONTACT_SUBMISSIONS, EXPORT, SUMMARY
from tests.admin.factories import CLEAR_VALUES, World, complete, staff_user
from tests.factories import BotFactory, UserFactory

pytestmark = pytest.mark.django_db


def page(client: Client, query: str = "") -> str:
    response = client.get(CONTACT_SUBMISSIONS + query)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def summary(client: Client, query: str = "") -> str:
    response = client.get(SUMMARY + query)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def row_ids(html: str) -> set[str]:
    return set(re.findall(r"/admin/actions/contactsubmission/([0-9a-f-]{36})/change/", html))


def assert_no_clear_values(text: str) -> None:
    for value in CLEAR_VALUES:
        assert value not in text, value


def summary_value(html: str, key: str) -> str:
    match = re.search(rf'data-summary="{key}".*?<span class="cs-value">(.*?)</span>', html, re.S)
    assert match, key
    return re.sub(r"\s+", " ", re.sub(r"<.*?>", "", match[1])).strip()


def export_rows(client: Client, query: str = "") -> list[dict[str, str]]:
    response = client.get(EXPORT + query)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="contact-submissions-')
    text = b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    return list(csv.DictReader(io.StringIO(text)))


def percentile(values: Iterable[int], fraction: float) -> float:
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- what the list shows ----------------------------------------------------------------------


def test_lists_the_two_kinds_only_with_every_contact_metadata_column(
    admin_client: Client, world: World
) -> None:
    html = page(admin_client)

    assert row_ids(html) == {str(world.pending.pk), str(world.completed.pk)}
    for column in (
        "delivery_status",
        "delivery_method",
        "signal_source",
        "network",
        "timing",
        "result_display",
        "created",
        "completed",
    ):
        assert f'class="sortable column-{column}' in html or f'class="column-{column}"' in html, column
    assert "Same Page" in html and "form-submit" in html and ">420 ms<" in html and ">200<" in html


def test_params_are_masked_on_every_page_pending_rows_included(admin_client: Client, world: World) -> None:
    assert world.pending.params_masked_at is None  # its stored params are still clear

    listing = page(admin_client)
    detail = admin_client.get(f"{CONTACT_SUBMISSIONS}{world.pending.pk}/change/").content.decode()

    for html in (listing, detail):
        assert_no_clear_values(html)
    assert "j***@example.com" in detail
    assert "**67" in detail
    assert "J***" in detail


def test_a_booking_execution_is_not_a_contact_submission(admin_client: Client, world: World) -> None:
    response = admin_client.get(f"{CONTACT_SUBMISSIONS}{world.booking.pk}/change/")

    assert response.status_code == 302  # Django's "does not exist" redirect to the admin index


def test_read_only_no_add_change_or_delete(admin_client: Client, world: World) -> None:
    change_url = f"{CONTACT_SUBMISSIONS}{world.pending.pk}/change/"

    assert admin_client.get(CONTACT_SUBMISSIONS + "add/").status_code == 403
    assert admin_client.get(f"{CONTACT_SUBMISSIONS}{world.pending.pk}/delete/").status_code == 403
    assert admin_client.post(change_url, {"visitor_id": "changed"}).status_code == 403
    detail = admin_client.get(change_url).content.decode()
    assert 'name="_save"' not in detail
    world.pending.refresh_from_db()
    assert world.pending.visitor_id == "visitor-pending"


# --- filters and search -----------------------------------------------------------------------


@pytest.fixture
def spread(world: World) -> dict[str, object]:
    """Rows that differ in one filtered column each."""
    other_bot = BotFactory(service=world.service, name="other-bot")
    failed = complete(
        ExecutionFactory(bot=world.bot, visitor_id="visitor-failed"),
        result=ExecutionResult.FAILURE,
        deliveryStatus="failed",
        deliveryMethod="hidden_iframe",
    )
    elsewhere = ExecutionFactory(bot=other_bot, visitor_id="visitor-elsewhere")
    return {"other_bot": other_bot, "failed": failed, "elsewhere": elsewhere}


def test_filters_by_bot_kind_result_delivery_status_method_and_date(
    admin_client: Client, world: World, spread: dict[str, object]
) -> None:
    failed, elsewhere, other_bot = spread["failed"], spread["elsewhere"], spread["other_bot"]
    pending, completed = str(world.pending.pk), str(world.completed.pk)

    assert row_ids(page(admin_client, f"?bot__id__exact={other_bot.pk}")) == {str(elsewhere.pk)}  # type: ignore[attr-defined]
    assert row_ids(page(admin_client, "?kind=newsletter")) == {completed}
    assert row_ids(page(admin_client, "?result=pending")) == {pending, str(elsewhere.pk)}  # type: ignore[attr-defined]
    assert row_ids(page(admin_client, "?result=failure")) == {str(failed.pk)}  # type: ignore[attr-defined]
    assert row_ids(page(admin_client, "?delivery_status=delivered")) == {completed}
    assert row_ids(page(admin_client, "?delivery_method=hidden_iframe")) == {str(failed.pk)}  # type: ignore[attr-defined]
    assert len(row_ids(page(admin_client, "?delivery_status=none"))) == 2
    assert len(row_ids(page(admin_client, "?created_at__gte=2000-01-01T00:00:00%2B00:00"))) == 4
    assert row_ids(page(admin_client, "?created_at__lt=2000-01-01T00:00:00%2B00:00")) == set()


def test_a_lookup_that_is_not_a_declared_filter_is_refused(admin_client: Client, world: World) -> None:
    # Django would otherwise filter on any local field: an oracle for the clear params of pending rows.
    for query in ("?params__email=jane.doe@example.com", "?params__icontains=jane", "?label__icontains=x"):
        for url in (CONTACT_SUBMISSIONS, EXPORT, SUMMARY):
            assert admin_client.get(url + query).status_code == 400, (url, query)


def test_search_by_visitor_exact_or_prefix_and_by_execution_id(admin_client: Client, world: World) -> None:
    pending, completed = str(world.pending.pk), str(world.completed.pk)

    assert row_ids(page(admin_client, "?q=visitor-pending")) == {pending}
    assert row_ids(page(admin_client, "?q=visitor-")) == {pending, completed}
    assert row_ids(page(admin_client, f"?q={completed}")) == {completed}
    assert row_ids(page(admin_client, "?q=pending")) == set()  # no substring scans
    assert row_ids(page(admin_client, "?q=VISITOR-PENDING")) == set()


def test_visitor_prefix_range_brackets_exactly_the_prefix() -> None:
    assert visitor_prefix_range("visitor-1") == ("visitor-1", "visitor-2")
    assert visitor_prefix_range("a\U0010ffff") == ("a\U0010ffff", "b")
    assert visitor_prefix_range("x\ud7ff") == ("x\ud7ff", "x\ue000")


# --- summary ----------------------------------------------------------------------------------


def test_summary_counts_per_delivery_status_and_percentiles_of_the_filtered_set(
    admin_client: Client, world: World
) -> None:
    timings = [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120]
    for index, ms in enumerate(timings):
        complete(
            ExecutionFactory(bot=world.bot),
            deliveryStatus="optimistic" if index % 2 else "delivered",
            submitToSignalMs=ms,
        )
    everything = [*timings, 420]

    html = summary(admin_client)

    assert summary_value(html, "total") == "13"
    assert summary_value(html, "status-delivered") == "7"
    assert summary_value(html, "status-optimistic") == "5"
    assert summary_value(html, "status-none") == "1"
    assert summary_value(html, "status-failed") == "0"
    assert summary_value(html, "p50") == f"{percentile(everything, 0.5):,.0f} ms"
    assert summary_value(html, "p95") == f"{percentile(everything, 0.95):,.0f} ms"

    narrowed = summary(admin_client, "?delivery_status=optimistic")
    assert summary_value(narrowed, "total") == "5"
    optimistic = [ms for index, ms in enumerate(timings) if index % 2]
    assert summary_value(narrowed, "p95") == f"{percentile(optimistic, 0.95):,.0f} ms"


def test_summary_percentiles_interpolate_like_percentile_cont(admin_client: Client, world: World) -> None:
    for ms in (100, 200, 300):
        complete(ExecutionFactory(bot=world.bot), submitToSignalMs=ms)

    html = summary(admin_client, "?delivery_status=none")  # excludes the world's 420

    assert summary_value(html, "p50") == "200 ms"
    assert summary_value(html, "p95") == "290 ms"  # 200 + 0.9 * (300 - 200)


def test_summary_without_timings_says_so(admin_client: Client, world: World) -> None:
    html = summary(admin_client, "?result=pending")

    assert summary_value(html, "total") == "1"
    assert summary_value(html, "p50") == "\N{EN DASH}"


def test_the_list_links_to_the_summary_of_its_filtered_set_and_never_computes_it(
    admin_client: Client, world: World
) -> None:
    page(admin_client)  # warm the session and the content types; nothing is cached by a list view
    with CaptureQueriesContext(connection) as queries:
        html = page(admin_client, "?kind=newsletter&q=visitor")

    assert 'href="/admin/actions/contactsubmission/summary/?kind=newsletter&amp;q=visitor"' in html
    assert (
        'data-summary-url="/admin/actions/contactsubmission/summary/?kind=newsletter&amp;q=visitor"' in html
    )
    assert "data-summary=" not in html
    for query in queries.captured_queries:
        assert "percentile_cont" not in query["sql"] and "FILTER (WHERE" not in query["sql"], query["sql"]


def test_summary_status_cards_link_to_the_list_narrowed_to_that_status(
    admin_client: Client, world: World
) -> None:
    html = summary(admin_client, "?kind=newsletter")

    assert 'href="/admin/actions/contactsubmission/?delivery_status=failed&amp;kind=newsletter"' in html
    assert 'href="/admin/actions/contactsubmission/?kind=newsletter">The list of these submissions' in html
    assert summary_value(html, "total") == "1"


def test_summary_is_cached_for_a_minute_per_filtered_set(admin_client: Client, world: World) -> None:
    assert summary_value(summary(admin_client), "total") == "2"
    complete(ExecutionFactory(bot=world.bot), submitToSignalMs=5)

    assert summary_value(summary(admin_client), "total") == "2"  # the same set: cached
    assert summary_value(summary(admin_client, "?result=success"), "total") == "2"  # another set: computed
    cache.clear()
    assert summary_value(summary(admin_client), "total") == "3"


# --- quick at a million rows ------------------------------------------------------------------


def test_changelist_queries_do_not_grow_with_rows(
    admin_client: Client, world: World, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    page(admin_client)  # warm the session, the content types and the summary cache
    with CaptureQueriesContext(connection) as few:
        page(admin_client)
    for _ in range(3):
        for other in range(10):
            complete(ExecutionFactory(bot=BotFactory(service=world.service)), submitToSignalMs=other)

    with django_assert_max_num_queries(len(few.captured_queries)):
        page(admin_client, "?o=1")


def test_summary_queries_do_not_grow_with_rows(
    admin_client: Client, world: World, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    summary(admin_client, "?result=success")  # warm the session and the content types
    with CaptureQueriesContext(connection) as few:
        summary(admin_client, "?kind=newsletter")
    for _ in range(3):
        for other in range(10):
            complete(ExecutionFactory(bot=BotFactory(service=world.service)), submitToSignalMs=other)

    with django_assert_max_num_queries(len(few.captured_queries)):
        summary(admin_client)  # another filter set: the summary is computed, not cached


def test_no_page_view_counts_a_whole_table(admin_client: Client, world: World) -> None:
    page(admin_client)
    summary(admin_client)
    with CaptureQueriesContext(connection) as queries:
        page(admin_client)
        summary(admin_client)  # the summary of this filtered set is cached

    counts = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"].upper()]
    assert counts, "the list counts its rows, capped"
    for sql in counts:
        assert "LIMIT" in sql.upper(), sql


def test_beyond_the_count_cap_the_list_says_more_than(
    admin_client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("config.admin.COUNT_CAP", 1)

    html = page(admin_client)

    assert "More than 1 contact submissions" in html
    assert summary_value(summary(admin_client), "total") == "2"  # it counts the whole filtered set


# --- export -----------------------------------------------------------------------------------


def test_export_streams_the_filtered_set_masked(admin_client: Client, world: World) -> None:
    rows = export_rows(admin_client)

    assert {row["executionId"] for row in rows} == {str(world.pending.pk), str(world.completed.pk)}
    assert set(rows[0]) >= {
        "deliveryStatus",
        "deliveryMethod",
        "signalSource",
        "networkStatus",
        "submitToSignalMs",
        "result",
        "createdAt",
        "completedAt",
        "params",
    }
    pending = next(row for row in rows if row["executionId"] == str(world.pending.pk))
    assert '"email": "j***@example.com"' in pending["params"]
    assert pending["result"] == "" and pending["completedAt"] == ""
    assert pending["createdAt"].endswith("Z")
    done = next(row for row in rows if row["executionId"] == str(world.completed.pk))
    assert (done["deliveryStatus"], done["submitToSignalMs"], done["networkStatus"]) == (
        "delivered",
        "420",
        "200",
    )
    assert_no_clear_values("\n".join(",".join(row.values()) for row in rows))

    assert [row["executionId"] for row in export_rows(admin_client, "?kind=newsletter")] == [
        str(world.completed.pk)
    ]
    assert [row["executionId"] for row in export_rows(admin_client, "?q=visitor-pending")] == [
        str(world.pending.pk)
    ]


def test_export_link_carries_the_filters(admin_client: Client, world: World) -> None:
    html = page(admin_client, "?kind=newsletter&q=visitor")

    assert 'href="/admin/actions/contactsubmission/export.csv?kind=newsletter&amp;q=visitor"' in html


def test_export_defuses_spreadsheet_formulas(admin_client: Client, world: World) -> None:
    ExecutionFactory(bot=world.bot, visitor_id="=HYPERLINK(1)", kind=ExecutionKind.NEWSLETTER)

    rows = export_rows(admin_client, "?q==HYPERLINK")

    assert rows[0]["visitorId"] == "'=HYPERLINK(1)"


# --- permissions ------------------------------------------------------------------------------


def test_staff_without_view_permission_get_403(client: Client, world: World) -> None:
    client.force_login(staff_user(username="intern", permissions=("actions.view_actionexecution",)))

    assert client.get(CONTACT_SUBMISSIONS).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert client.get(SUMMARY).status_code == 403
    assert client.get(f"{CONTACT_SUBMISSIONS}{world.pending.pk}/change/").status_code == 403
    assert "Contact Submissions" not in client.get("/admin/").content.decode()


def test_staff_with_only_view_permission_see_it_read_only(client: Client, world: World) -> None:
    client.force_login(staff_user(username="support", permissions=("actions.view_contactsubmission",)))

    html = page(client)
    assert row_ids(html) == {str(world.pending.pk), str(world.completed.pk)}
    assert_no_clear_values(html)
    assert client.get(EXPORT).status_code == 200
    assert summary_value(summary(client), "total") == "2"
    assert "Contact Submissions →" in client.get("/admin/").content.decode()
    # Nothing else in the admin.
    assert client.get("/admin/accounts/service/").status_code == 403
    assert client.get("/admin/outbound/webhookevent/").status_code == 403


def test_anonymous_and_non_staff_are_sent_to_log_in(client: Client, world: World) -> None:
    assert client.get(CONTACT_SUBMISSIONS).status_code == 302
    assert client.get(EXPORT).status_code == 302
    assert client.get(SUMMARY).status_code == 302
    client.force_login(UserFactory(username="customer"))
    for url in (EXPORT, SUMMARY):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_the_summary_is_computed_by_the_database(admin_client: Client, world: World) -> None:
    for ms in range(0, 1000, 100):
        complete(ExecutionFactory(bot=world.bot), submitToSignalMs=ms)

    with CaptureQueriesContext(connection) as queries:
        summary(admin_client)

    timing_reads = [q["sql"] for q in queries.captured_queries if "submit_to_signal_ms" in q["sql"]]
    if connection.vendor == "postgresql":
        assert any("percentile_cont(0.5) WITHIN GROUP" in sql for sql in timing_reads)
    else:  # the one or two values at the rank, never the whole column
        offset_reads = [sql for sql in timing_reads if '"submit_to_signal_ms" IS NOT NULL' in sql]
        assert len(offset_reads) == 2
        assert all("LIMIT 2 OFFSET" in sql for sql in offset_reads), offset_reads


def test_a_bad_filter_value_sends_back_to_the_list(admin_client: Client, world: World) -> None:
    for url in (CONTACT_SUBMISSIONS, EXPORT, SUMMARY):
        response = admin_client.get(url + "?created_at__gte=not-a-date")
        assert response.status_code == 302
        assert response["Location"].endswith("?e=1")
