import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import URLValidator
from django.db import IntegrityError

from config.accounts.services import service_create


class Command(BaseCommand):
    help = "Create a service and print its id, its API key and its webhook signing secret (shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A unique name for the service.")
        parser.add_argument("--callback-url", default="", help="Where its webhooks are delivered.")
        parser.add_argument("--json", dest="as_json", action="store_true", help="Print one JSON object only.")

    def handle(self, *args: Any, name: str, callback_url: str, as_json: bool, **options: Any) -> None:
        if callback_url:
            try:
                URLValidator(schemes=["http", "https"])(callback_url)
            except ValidationError:
                raise CommandError(f"--callback-url must be an http(s) URL, not {callback_url!r}") from None
        try:
            service, issued = service_create(name=name, callback_url=callback_url)
        except IntegrityError:
            raise CommandError(f"a service named {name!r} exists already") from None
        result = {
            "service_id": str(service.id),
            "api_key": issued.secret,
            "webhook_secret": service.webhook_secret,
        }
        if as_json:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"Service {service.name} created.")
        for field, value in result.items():
            self.stdout.write(f"  {field + ':':<16}{value}")
        self.stdout.write("Store both secrets now: they are not shown again.")
