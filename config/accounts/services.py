from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from config.accounts.models import Credential, Service, ServiceKey, UserToken
from config.accounts.secrets import SERVICE_KEY_PREFIX, USER_TOKEN_PREFIX, new_secret, new_webhook_secret
from config.formats import parse_duration
from config.progress import OnProgress


@dataclass(frozen=True)
class IssuedServiceKey:
    key: ServiceKey
    secret: str


@dataclass(frozen=True)
class IssuedUserToken:
    token: UserToken
    secret: str


@transaction.atomic
def service_create(*, name: str, callback_url: str = "") -> tuple[Service, IssuedServiceKey]:
    service = Service.objects.create(
        name=name, callback_url=callback_url, webhook_secret=new_webhook_secret()
    )
    return service, service_key_issue(service=service)


def service_key_issue(*, service: Service) -> IssuedServiceKey:
    secret = new_secret(SERVICE_KEY_PREFIX)
    key = ServiceKey.objects.create_for_secret(secret, service=service)
    return IssuedServiceKey(key=key, secret=secret)


@transaction.atomic
def service_key_rotate(*, service: Service) -> IssuedServiceKey:
    """Issue a new key and revoke every other key of the service, in one step."""
    issued = service_key_issue(service=service)
    ServiceKey.objects.filter(service=service).exclude(pk=issued.key.pk).revoke()
    return issued


@dataclass(frozen=True)
class RotatedWebhookSecret:
    # Out of repr: a traceback or a log line must not carry it.
    secret: str = field(repr=False)
    previous_valid_until: datetime


@transaction.atomic
def service_webhook_secret_rotate(*, service: Service, now: datetime | None = None) -> RotatedWebhookSecret:
    """Issue a new signing secret; the current one keeps signing beside it for
    WEBHOOK_SECRET_OVERLAP. The one before that (a rotation within the window) is dropped.

    The service's row is locked, so concurrent rotations follow each other: each keeps the secret
    the previous one issued, and none is lost or kept twice.
    """
    now = now or timezone.now()
    locked = Service.objects.select_for_update().get(pk=service.pk)
    secret = new_webhook_secret()
    valid_until = now + parse_duration(settings.WEBHOOK_SECRET_OVERLAP)
    locked.previous_webhook_secret = locked.webhook_secret
    locked.previous_secret_valid_until = valid_until
    locked.webhook_secret = secret
    locked.save(update_fields=["webhook_secret", "previous_webhook_secret", "previous_secret_valid_until"])
    service.webhook_secret = secret
    service.previous_webhook_secret = locked.previous_webhook_secret
    service.previous_secret_valid_until = valid_until
    return RotatedWebhookSecret(secret=secret, previous_valid_until=valid_until)


def webhook_secrets_reencrypt(*, batch_size: int = 500, on_progress: OnProgress | None = None) -> int:
    """Re-encrypt every service's webhook secrets under the first key of WEBHOOK_SECRET_KEYS (after
    a new key was put first); returns how many services. Any key of the setting may decrypt them.

    In batches walked by primary key, each batch's rows locked while they are rewritten, so a
    rotation at the same moment is neither lost nor overwritten with its old secret.
    """
    done = 0
    last_id = None
    while True:
        with transaction.atomic():
            rows = Service.objects.select_for_update().order_by("pk")
            if last_id is not None:
                rows = rows.filter(pk__gt=last_id)
            batch = list(rows.only("pk", "webhook_secret", "previous_webhook_secret")[:batch_size])
            for service in batch:
                # Reading decrypts with whichever key fits; saving encrypts under the first.
                service.save(update_fields=["webhook_secret", "previous_webhook_secret"])
        if not batch:
            return done
        done += len(batch)
        last_id = batch[-1].pk
        if on_progress is not None:
            on_progress(len(batch))


def user_token_issue(*, user: User) -> IssuedUserToken:
    secret = new_secret(USER_TOKEN_PREFIX)
    token = UserToken.objects.create_for_secret(secret, user=user)
    return IssuedUserToken(token=token, secret=secret)


def user_token_reissue(*, user: User) -> IssuedUserToken:
    """Issue a new token and revoke every other token of the user, in one step (as a key rotation)."""
    with transaction.atomic():
        issued = user_token_issue(user=user)
        UserToken.objects.filter(user=user).exclude(pk=issued.token.pk).revoke()
    return issued


def credential_revoke(*, credential: Credential) -> None:
    """Revoke a service key or a user token; revoking it again changes nothing."""
    type(credential).objects.filter(pk=credential.pk).revoke()


def person_login_update(*, user: User, email: str | None = None, password: str | None = None) -> None:
    """Set what a person needs for the inbox: the address its e-mails go to, the password it logs
    in with (each only when given)."""
    fields = []
    if email is not None:
        user.email = email
        fields.append("email")
    if password is not None:
        user.set_password(password)
        fields.append("password")
    if fields:
        user.save(update_fields=fields)
