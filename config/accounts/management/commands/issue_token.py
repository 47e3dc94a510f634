import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.accounts.services import user_token_issue


class Command(BaseCommand):
    help = "Issue an API token (ut_...) for a person who answers notifications; it is shown once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--create", action="store_true", help="Create the user if there is none.")
        parser.add_argument("--json", dest="as_json", action="store_true", help="Print one JSON object only.")

    def handle(self, *args: Any, username: str, create: bool, as_json: bool, **options: Any) -> None:
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is None:
            if not create:
                raise CommandError(f"there is no user {username!r}; pass --create to make one")
            user = user_model.objects.create_user(username=username)
        issued = user_token_issue(user=user)
        if as_json:
            self.stdout.write(json.dumps({"username": user.get_username(), "token": issued.secret}))
            return
        self.stdout.write(f"Token for {user.get_username()}: {issued.secret}")
        self.stdout.write("Store it now: it is not shown again.")
