"""Who may call a view. The default (`DenyAll`) refuses, so a view that names nobody serves nobody.

Each base view of `config.api.views` names the credential its callers hold. The credential itself
is checked by authentication, which answers the family's 401 before permissions run; these
classes state which kind of credential the view takes, so a view that forgot its authentication
cannot be called with the other kind, or with none.
"""

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from config.accounts.models import ServiceKey, UserToken


class DenyAll(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return False


class HasServiceKey(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ServiceKey)


class HasUserToken(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, UserToken)
