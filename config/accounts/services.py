from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from config.accounts.models import Credential, Service, ServiceKey, UserToken
from config.accounts.secrets import SERVICE_KEY_PREFIX, USER_TOKEN_PREFIX, new_secret, new_webhook_secret


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


def user_token_issue(*, user: User) -> IssuedUserToken:
    secret = new_secret(USER_TOKEN_PREFIX)
    token = UserToken.objects.create_for_secret(secret, user=user)
    return IssuedUserToken(token=token, secret=secret)


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
