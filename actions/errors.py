"""The widget family's codes peculiar to executions (contract 2); the shared ones are in config.api."""

from config.api.errors import ApiError


class AlreadyCompleted(ApiError):
    status = 409
    code = "ALREADY_COMPLETED"
    default_message = "This execution has already been completed; its result cannot change."


class ForbiddenTarget(ApiError):
    status = 403
    code = "FORBIDDEN_TARGET"
    default_message = "The target URL is not on the bot's allowlist."
