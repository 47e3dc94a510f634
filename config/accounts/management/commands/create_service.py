from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import IntegrityError

from config.accounts.models import Service
from config.accounts.services import service_create
from config.commands import OperatorCommand, Report, http_url, name, reaches_private_address


class Command(OperatorCommand):
    help = "Create a service and print its id, its API key and its webhook signing secret (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "name",
            type=name(Service._meta.get_field("name").max_length),
            help="A unique name for the service.",
        )
        parser.add_argument(
            "--callback-url", type=http_url, default=None, help="Where its webhooks are delivered."
        )

    def operate(self, *, name: str, callback_url: str | None, **options: Any) -> Report:
        if callback_url and not settings.OUTBOUND_ALLOW_PRIVATE and reaches_private_address(callback_url):
            self.warn(
                f"{callback_url} points to a loopback or private address: its webhooks will be "
                "refused unless OUTBOUND_ALLOW_PRIVATE is true (tests and local demos only)"
            )
        try:
            service, issued = service_create(name=name, callback_url=callback_url or "")
        except IntegrityError:
            raise CommandError(f"a service named {name!r} exists already") from None
        result = {
            "service_id": str(service.id),
            "api_key": issued.secret,
            "webhook_secret": service.webhook_secret,
        }
        return Report(
            data=result,
            lines=[
                f"Service {service.name} created.",
                *(f"  {field + ':':<16}{value}" for field, value in result.items()),
                "Store both secrets now: they are not shown again.",
            ],
        )
