import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.core.validators import validate_email
from django.db import transaction

from config.accounts.services import person_login_update, user_token_issue
from config.commands import OperatorCommand, Report


class Command(OperatorCommand):
    help = (
        "Issue an API token (ut_...) for a person who answers notifications; it is shown once. "
        "--email sets the address their e-mails go to; --password-stdin sets the password they log in "
        "to the inbox (/inbox/) with, read from the first line of standard input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--create", action="store_true", help="Create the user if there is none.")
        parser.add_argument("--email", metavar="ADDRESS", help="Set the person's e-mail address.")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read a password from the first line of standard input and set it (for the inbox).",
        )

    def operate(
        self,
        *args: Any,
        username: str,
        create: bool,
        email: str | None,
        password_stdin: bool,
        **options: Any,
    ) -> Report:
        user_model = get_user_model()
        if email is not None:
            try:
                validate_email(email)
            except ValidationError:
                raise CommandError("--email: not an e-mail address") from None
        password = _read_password() if password_stdin else None
        with transaction.atomic():
            user = user_model.objects.filter(username=username).first()
            if user is None:
                if not create:
                    raise CommandError(f"there is no user {username!r}; pass --create to make one")
                _check_username(user_model, username)
                user = user_model.objects.create_user(username=username)
            if password is not None:
                try:
                    validate_password(password, user)
                except ValidationError as refused:
                    raise CommandError(f"--password-stdin: {' '.join(refused.messages)}") from None
            person_login_update(user=user, email=email, password=password)
            issued = user_token_issue(user=user)
        lines = [f"Token for {user.get_username()}: {issued.secret}", "Store it now: it is not shown again."]
        if email is not None:
            lines.append("E-mail address set: new notifications are e-mailed there.")
        if password is not None:
            lines.append("Password set: they can log in at /inbox/.")
        return Report(data={"username": user.get_username(), "token": issued.secret}, lines=lines)


def _read_password() -> str:
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise CommandError("--password-stdin: the first line of standard input is empty")
    return line


def _check_username(user_model: Any, username: str) -> None:
    field = user_model._meta.get_field(user_model.USERNAME_FIELD)
    try:
        field.run_validators(username)
        if not username or len(username) > field.max_length:
            raise ValidationError("length")
    except ValidationError:
        raise CommandError(
            f"not a username: 1 to {field.max_length} letters, digits and @/./+/-/_ only"
        ) from None
