import uuid

from django.db.models import Q

from config.accounts.models import Credential, Service, ServiceKey, UserToken
from config.accounts.secrets import digest
from config.db import Param, Prepared

# Every authenticated API request starts with one of these: compiled once per process.
_SERVICE_KEY_BY_DIGEST = Prepared(
    lambda: ServiceKey.objects.select_related("service").filter(**{ServiceKey.digest_field: Param("digest")})
)
_USER_TOKEN_BY_DIGEST = Prepared(
    lambda: UserToken.objects.select_related("user").filter(**{UserToken.digest_field: Param("digest")})
)


def _by_secret[C: Credential](lookup: Prepared[C], model: type[C], *, secret: str) -> C | None:
    """The credential this secret belongs to, revoked or not; None for a secret never issued.

    The digest is unique, so it finds at most one row; whether that row may be used is read off it
    rather than put into the SQL, so that the lookup stays one statement of one shape.
    """
    if not secret.startswith(model.secret_prefix):
        return None
    return lookup.one(digest=digest(secret))


def service_key_get_active(*, secret: str) -> ServiceKey | None:
    key = _by_secret(_SERVICE_KEY_BY_DIGEST, ServiceKey, secret=secret)
    return key if key is not None and key.is_active else None


def user_token_get_active(*, secret: str) -> UserToken | None:
    token = _by_secret(_USER_TOKEN_BY_DIGEST, UserToken, secret=secret)
    return token if token is not None and token.is_active and token.user.is_active else None


def service_get_by_id_or_name(*, reference: str) -> Service | None:
    try:
        service_id = uuid.UUID(reference)
    except ValueError:
        return Service.objects.filter(name=reference).first()
    return Service.objects.filter(Q(pk=service_id) | Q(name=reference)).first()
