from importlib import import_module
from types import ModuleType
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils.module_loading import module_has_submodule

from config.accounts.models import Service
from config.accounts.services import (
    person_login_update,
    service_create,
    service_key_rotate,
    user_token_reissue,
)
from config.commands import OperatorCommand, Report, http_url

DEMO_SERVICE = "demo-assistant"
DEMO_ADMIN = ("admin", "admin")
DEMO_PERSON = ("alex", "alex-demo-password")
DEMO_PERSON_EMAIL = "alex@example.com"
# How the printed hints run a command: from the project's directory, with the venv `make` made.
MANAGE = ".venv/bin/python manage.py"


def demo_modules() -> list[ModuleType]:
    """Each installed app's `demo` module, in INSTALLED_APPS order (as the admin finds `admin`).

    A `demo` module has `seed(context) -> list of lines to print`; the context holds the accounts
    seeded here (`service`, `service_key`, `person`, `user_token`), the `base_url` and `manage`
    (how a printed hint runs a command).
    """
    return [
        import_module(f"{app.name}.demo")
        for app in apps.get_app_configs()
        if module_has_submodule(app.module, "demo")
    ]


class Command(OperatorCommand):
    help = (
        "Load the demo data `make run` shows (idempotent) and print how to log in. "
        "Issues fresh demo credentials on every run (revoking the previous service key and user "
        "token); only for DEBUG installs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--base-url", type=http_url, default="http://127.0.0.1:8000", help="Where the server will listen."
        )
        parser.add_argument(
            "--callback-url",
            type=http_url,
            default=None,
            help="The demo service's callback URL (`run_demo` points it at its receiver); kept when omitted.",
        )

    def operate(self, *, base_url: str, callback_url: str | None, **options: Any) -> Report:
        if not settings.DEBUG:
            raise CommandError("seed_demo makes well-known logins; it runs only with DEBUG=true")
        with transaction.atomic():
            context = self._seed_accounts(base_url=base_url.rstrip("/"), callback_url=callback_url)
            lines = [
                f"Admin:         {context['base_url']}/admin/  "
                f"(user {DEMO_ADMIN[0]}, password {DEMO_ADMIN[1]})",
                f"API docs:      {context['base_url']}/api/docs/",
                f"Service key:   {context['service_key']}  (service {DEMO_SERVICE})",
                f"Inbox:         {context['base_url']}/inbox/  "
                f"(user {DEMO_PERSON[0]}, password {DEMO_PERSON[1]})",
                f"User token:    {context['user_token']}  (user {DEMO_PERSON[0]}, password {DEMO_PERSON[1]})",
            ]
            for module in demo_modules():
                lines.extend(module.seed(context))
        return Report(
            data={
                "base_url": context["base_url"],
                "service_id": str(context["service"].id),
                "service_key": context["service_key"],
                "username": DEMO_PERSON[0],
                "user_token": context["user_token"],
            },
            lines=["\n".join(["", "Demo data is loaded.", *lines, ""])],
        )

    def _seed_accounts(self, *, base_url: str, callback_url: str | None) -> dict[str, Any]:
        user_model = get_user_model()
        admin = user_model.objects.filter(username=DEMO_ADMIN[0]).first()
        if admin is None:
            user_model.objects.create_superuser(username=DEMO_ADMIN[0], password=DEMO_ADMIN[1], email="")
        person = user_model.objects.filter(username=DEMO_PERSON[0]).first()
        if person is None:
            person = user_model.objects.create_user(
                username=DEMO_PERSON[0], password=DEMO_PERSON[1], email=DEMO_PERSON_EMAIL
            )
        elif not person.email:
            person_login_update(user=person, email=DEMO_PERSON_EMAIL)
        service = Service.objects.filter(name=DEMO_SERVICE).first()
        if service is None:
            service, issued = service_create(name=DEMO_SERVICE, callback_url=callback_url or "")
        else:
            issued = service_key_rotate(service=service)
            if callback_url is not None and service.callback_url != callback_url:
                service.callback_url = callback_url
                service.save(update_fields=["callback_url"])
        return {
            "base_url": base_url,
            "manage": MANAGE,
            "service": service,
            "service_key": issued.secret,
            "person": person,
            "user_token": user_token_reissue(user=person).secret,
        }
