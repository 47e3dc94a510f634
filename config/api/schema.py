"""How our credentials appear in the OpenAPI schema (drf-spectacular finds these by subclassing)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse

# Every widget route called with a service key answers 401 without a valid one (before anything else).
WIDGET_UNAUTHENTICATED = OpenApiResponse(description="UNAUTHENTICATED: no valid service key")


class ServiceKeyScheme(OpenApiAuthenticationExtension):
    target_class = "config.api.authentication.ServiceKeyAuthentication"
    name = "serviceKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A service key: `Bearer sk_...`."}


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "config.api.authentication.UserTokenAuthentication"
    name = "userToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A person's token: `Bearer ut_...`."}
