"""The errors peculiar to /actions (contract 4).

Each carries its type from `config.api.families.ActionsErrorType` as `code`, so the one exception
handler renders it unchanged as `{"error": {"type", "message", "location", "suggestion"}}`. The
shared codes (`NOT_FOUND`, `UNAUTHENTICATED`, ...) are spelled for this family by
`config.api.families.ActionsFamily`, which also has the input errors (`type_error`,
`parameter_error`) that every /actions body, query and header check raises.
"""

from config.api.errors import ApiError
from config.api.families import ActionsErrorType


class ActionNotFound(ApiError):
    status = 404
    code = ActionsErrorType.NOT_FOUND.value
    default_message = "There is no such action."


class IdempotencyConflict(ApiError):
    status = 409
    code = ActionsErrorType.CONFLICT.value
    default_message = "This Idempotency-Key was already used."
