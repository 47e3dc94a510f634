"""Bearer credentials: service keys (`sk_`) for machines, user tokens (`ut_`) for people.

A missing, unknown or revoked credential is the family's 401 before the view runs, so no
resource is looked up for an unauthenticated caller.
"""

from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from config.accounts.selectors import service_key_get_active, user_token_get_active
from config.api import errors


def bearer_secret(request: Request) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise errors.Unauthenticated()
    return secret.strip()


class ServiceKeyAuthentication(BaseAuthentication):
    """request.auth is the ServiceKey; the owning service is `request.auth.service`."""

    def authenticate(self, request: Request) -> tuple[Any, Any]:
        key = service_key_get_active(secret=bearer_secret(request))
        if key is None:
            raise errors.Unauthenticated("The service key is unknown or revoked.")
        return (None, key)

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"


class UserTokenAuthentication(BaseAuthentication):
    """request.user is the person; request.auth is their UserToken."""

    def authenticate(self, request: Request) -> tuple[Any, Any]:
        token = user_token_get_active(secret=bearer_secret(request))
        if token is None:
            raise errors.Unauthenticated("The user token is unknown or revoked.")
        return (token.user, token)

    def authenticate_header(self, request: Request) -> str:
        return "Bearer"
