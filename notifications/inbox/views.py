"""The inbox's pages (contract section 9). Each view parses, calls the selectors and the service
the API calls, and renders; read top to bottom, the checks are in the contract's order.

Every page but the login page needs a session (else 302 to the login page with `next`), shows a
person only what `notifications_readable_by` lets them read, and is never cached; Django's
middleware adds the CSRF check to every POST and `X-Frame-Options: DENY` to every answer.
"""

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache

from config.api.errors import ApiError, RateLimited, ServiceUnavailable, Unauthenticated
from config.api.families import NOTIFICATIONS
from notifications.errors import NotificationAccessDenied, NotificationNotFound
from notifications.inbox.forms import AnswerForm, LoginForm, response_data_from_form
from notifications.inbox.words import (
    STATUS_WORDS,
    answer_words,
    answered_action,
    confirmation_words,
    error_words,
    plural,
)
from notifications.models import Notification, NotificationStatus
from notifications.selectors import (
    InboxRows,
    notification_get_for_inbox_page,
    notification_get_to_answer_in_inbox,
)
from notifications.services import notification_respond, person_authenticate
from notifications.views import RespondApi

PAGE_SIZE = 50
MAX_COUNTED_PAGE = 1_000_000
LOGIN_PATH = "/inbox/login/"


def safe_next(value: str | None) -> str | None:
    """`next` when it is a path of this site, else None: never a URL of another host, never a
    scheme-relative `//host` or `/\\host`."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    if not url_has_allowed_host_and_scheme(value, allowed_hosts=set()):
        return None
    return value


def _error_page(request: HttpRequest, *, status: int, title: str, message: str) -> HttpResponse:
    return render(request, "inbox/error.html", {"title": title, "message": message}, status=status)


def _not_readable_page(request: HttpRequest, error: ApiError) -> HttpResponse:
    if isinstance(error, NotificationAccessDenied):
        return _error_page(
            request,
            status=403,
            title="Not yours to answer",
            message="This question is addressed to someone else, so it is not shown here.",
        )
    return _error_page(
        request,
        status=404,
        title="No such question",
        message="There is no question at this address. It may have been deleted, or the link is incomplete.",
    )


class InboxLoginRequired(LoginRequiredMixin):
    login_url = LOGIN_PATH


@method_decorator(never_cache, name="dispatch")
class LoginView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        next_path = safe_next(request.GET.get("next"))
        if request.user.is_authenticated:
            return HttpResponseRedirect(next_path or reverse("inbox:list"))
        return self._page(request, LoginForm(), next_path=next_path)

    def post(self, request: HttpRequest) -> HttpResponse:
        next_path = safe_next(request.POST.get("next") or request.GET.get("next"))
        form = LoginForm(data=request.POST)
        if not form.is_valid():
            return self._page(request, form, next_path=next_path, status=400)
        try:
            user = person_authenticate(
                request=request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except Unauthenticated:
            return self._page(
                request, form, next_path=next_path, error="The username or the password is wrong."
            )
        except RateLimited as error:
            minutes = max(1, round(error.retry_after / 60))
            response = self._page(
                request,
                form,
                next_path=next_path,
                status=error.status,
                error=f"Too many failed attempts. Try again in about {plural(minutes, 'minute')}.",
            )
            response["Retry-After"] = str(error.retry_after)
            return response
        except ServiceUnavailable as error:
            # The counters cannot be reached: no login goes unthrottled (docs/decisions.md).
            return self._page(
                request,
                form,
                next_path=next_path,
                status=error.status,
                error="Logging in is not possible at the moment. Try again in a few minutes.",
            )
        login(request, user)
        return HttpResponseRedirect(next_path or reverse("inbox:list"))

    def _page(
        self,
        request: HttpRequest,
        form: LoginForm,
        *,
        next_path: str | None,
        status: int = 200,
        error: str | None = None,
    ) -> HttpResponse:
        context = {"form": form, "next": next_path, "error": error}
        return render(request, "inbox/login.html", context, status=status)


class LogoutView(View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        logout(request)
        return HttpResponseRedirect(LOGIN_PATH)


@method_decorator(never_cache, name="dispatch")
class ListView(InboxLoginRequired, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        status = request.GET.get("status") or None
        if status is not None and status not in NotificationStatus.values:
            return _error_page(
                request,
                status=400,
                title="No such filter",
                message="Questions can be filtered by waiting, answered, expired or withdrawn.",
            )
        now = timezone.now()
        rows = InboxRows(
            user=request.user,
            now=now,
            status=status,
            count_to=_count_to(request.GET.get("page")),
            page_size=PAGE_SIZE,
        )
        # A Paginator asks its rows only for count() and slices, which InboxRows answers.
        paginator: Paginator[Notification] = Paginator(cast(Any, rows), PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        tabs = [
            {"status": None, "label": "All", "current": status is None},
            *(
                {"status": value, "label": STATUS_WORDS[value], "current": status == value}
                for value in NotificationStatus.values
            ),
        ]
        context = {
            "page": page,
            "rows": [_row(item, now=now) for item in page.object_list],
            "status": status,
            "status_word": STATUS_WORDS.get(status or "", ""),
            "tabs": tabs,
            "waiting": rows.waiting,
            "more_pages": rows.count_capped,
            "now": now,
        }
        return render(request, "inbox/list.html", context)


def _count_to(page: str | None) -> int | None:
    """The end of the page asked for, as far as the list must count (None: all of it). A page that
    is no number is the first; one below 1, or past any list's end, is the last
    (Paginator.get_page), which needs every row (and no LIMIT beyond the database's integers)."""
    try:
        number = int(page or 1)
    except ValueError:
        number = 1
    return number * PAGE_SIZE if 1 <= number <= MAX_COUNTED_PAGE else None


def _row(notification: Notification, *, now: Any) -> dict[str, Any]:
    status = notification.status_at(now)
    return {
        "notification": notification,
        "status": status,
        "status_word": STATUS_WORDS[status],
    }


@method_decorator(never_cache, name="dispatch")
class NotificationView(InboxLoginRequired, View):
    def get(self, request: HttpRequest, notification_id: str) -> HttpResponse:
        try:
            notification = notification_get_for_inbox_page(user=request.user, notification_id=notification_id)
        except (NotificationNotFound, NotificationAccessDenied) as error:
            return _not_readable_page(request, error)
        return self._page(request, notification)

    def post(self, request: HttpRequest, notification_id: str) -> HttpResponse:
        try:
            notification = notification_get_to_answer_in_inbox(
                user=request.user, notification_id=notification_id
            )
        except (NotificationNotFound, NotificationAccessDenied) as error:
            return _not_readable_page(request, error)
        action_id = request.POST.get("action_id")
        action = next((item for item in notification.actions if item["id"] == action_id), None)
        try:
            # The API's input rules (action_id required) before the service's, as for the API.
            RespondApi.RespondInput.from_form(
                {"notification_id": notification_id, "action_id": action_id}, family=NOTIFICATIONS
            )
            notification = notification_respond(
                notification=notification,
                responder=cast(User, request.user),
                action_id=action_id,
                response_data=response_data_from_form(
                    response_type=action["response_type"] if action else None, data=request.POST
                ),
            )
        except ApiError as error:
            # The page shows the row whole, as it is now (on a 409 it changed under the page; the
            # reason goes on top): read with its people only here, off the answer's hot path.
            try:
                notification = notification_get_for_inbox_page(
                    user=request.user, notification_id=notification_id
                )
            except (NotificationNotFound, NotificationAccessDenied) as gone:
                return _not_readable_page(request, gone)
            return self._page(request, notification, error=error, posted=action_id, status=error.status)
        messages.success(
            request,
            confirmation_words(action, notification.response_data, service_name=notification.service.name),
        )
        response = HttpResponseRedirect(reverse("inbox:notification", args=[notification.pk]))
        response.status_code = 303  # See Other: the browser GETs the page, a reload does not post again
        return response

    def _page(
        self,
        request: HttpRequest,
        notification: Notification,
        *,
        error: ApiError | None = None,
        posted: str | None = None,
        status: int = 200,
    ) -> HttpResponse:
        now = timezone.now()
        shown = notification.status_at(now)
        posted_action = next((item for item in notification.actions if item["id"] == posted), None)
        message = None
        if error is not None:
            message = error_words(
                error, response_type=posted_action["response_type"] if posted_action else None
            )
        forms = []
        if shown == NotificationStatus.PENDING:
            forms = [
                AnswerForm(
                    action=action,
                    index=index,
                    data=request.POST if action is posted_action else None,
                    error=message if action is posted_action else None,
                )
                for index, action in enumerate(notification.actions)
            ]
        # The default outcome shows from the deadline on, whether or not the sweep recorded it.
        answer = notification.answer_at(now)
        action = answered_action(notification, action_id=answer.action_id if answer else None)
        context = {
            "notification": notification,
            "status": shown,
            "status_word": STATUS_WORDS[shown],
            "forms": forms,
            # An error no form shows (the question changed meanwhile, an unknown action) goes on top.
            "page_error": message if message and not any(form.error for form in forms) else None,
            "answer": answer_words(action, answer.response_data) if answer else None,
            "answer_action": action,
            "answer_record": answer,
            "answered_by_me": answer is not None
            and answer.responder is not None
            and answer.responder.pk == request.user.pk,
            "now": now,
        }
        return render(request, "inbox/notification.html", context, status=status)
