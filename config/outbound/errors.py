"""The outbox's own codes (contract 10); the shared ones are in config.api.errors."""

from config.api.errors import ApiError


class PayloadPurged(ApiError):
    status = 409
    code = "PAYLOAD_PURGED"
    default_message = (
        "This event's payload was purged under the retention policy (RETAIN_WEBHOOK_PAYLOADS); "
        "it cannot be sent again."
    )
