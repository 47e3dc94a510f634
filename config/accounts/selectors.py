import uuid

from django.db.models import Q

from config.accounts.models import Service, ServiceKey, UserToken


def service_key_get_active(*, secret: str) -> ServiceKey | None:
    key = ServiceKey.objects.select_related("service").get_by_secret(secret)
    return key if key is not None and key.is_active else None


def user_token_get_active(*, secret: str) -> UserToken | None:
    token = UserToken.objects.select_related("user").get_by_secret(secret)
    return token if token is not None and token.is_active and token.user.is_active else None


def service_get_by_id_or_name(*, reference: str) -> Service | None:
    try:
        service_id = uuid.UUID(reference)
    except ValueError:
        return Service.objects.filter(name=reference).first()
    return Service.objects.filter(Q(pk=service_id) | Q(name=reference)).first()
