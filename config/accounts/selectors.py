import uuid

from django.db.models import Q

from config.accounts.models import Service, ServiceKey, UserToken
from config.accounts.secrets import SERVICE_KEY_PREFIX, USER_TOKEN_PREFIX, digest


def service_key_get_active(*, secret: str) -> ServiceKey | None:
    if not secret.startswith(SERVICE_KEY_PREFIX):
        return None
    try:
        return ServiceKey.objects.select_related("service").get(
            key_hash=digest(secret), revoked_at__isnull=True
        )
    except ServiceKey.DoesNotExist:
        return None


def user_token_get_active(*, secret: str) -> UserToken | None:
    if not secret.startswith(USER_TOKEN_PREFIX):
        return None
    try:
        return UserToken.objects.select_related("user").get(
            token_hash=digest(secret), revoked_at__isnull=True, user__is_active=True
        )
    except UserToken.DoesNotExist:
        return None


def service_get_by_id_or_name(*, reference: str) -> Service | None:
    try:
        service_id = uuid.UUID(reference)
    except ValueError:
        return Service.objects.filter(name=reference).first()
    return Service.objects.filter(Q(pk=service_id) | Q(name=reference)).first()
