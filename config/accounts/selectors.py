import uuid

from django.db.models import Q

from config.accounts.models import Service, ServiceKey, UserToken
from config.accounts.secrets import SERVICE_KEY_PREFIX, USER_TOKEN_PREFIX, digest

# The hash is unique, so it finds at most one row; whether that row may be used is read off it
# rather than put into the SQL, whose extra filters (one across the join to the user) cost more
# to compile than the lookup costs to run.


def service_key_get_active(*, secret: str) -> ServiceKey | None:
    if not secret.startswith(SERVICE_KEY_PREFIX):
        return None
    try:
        key = ServiceKey.objects.select_related("service").get(key_hash=digest(secret))
    except ServiceKey.DoesNotExist:
        return None
    return key if key.revoked_at is None else None


def user_token_get_active(*, secret: str) -> UserToken | None:
    if not secret.startswith(USER_TOKEN_PREFIX):
        return None
    try:
        token = UserToken.objects.select_related("user").get(token_hash=digest(secret))
    except UserToken.DoesNotExist:
        return None
    return token if token.revoked_at is None and token.user.is_active else None


def service_get_by_id_or_name(*, reference: str) -> Service | None:
    try:
        service_id = uuid.UUID(reference)
    except ValueError:
        return Service.objects.filter(name=reference).first()
    return Service.objects.filter(Q(pk=service_id) | Q(name=reference)).first()
