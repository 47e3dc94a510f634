"""The notification family's own codes (seeds/client-respond.txt and contract section 3)."""

from config.api.errors import ApiError


class NotificationNotFound(ApiError):
    status = 404
    code = "NOTIFICATION_NOT_FOUND"
    default_message = "There is no such notification."


class NotificationAccessDenied(ApiError):
    status = 403
    code = "NOTIFICATION_ACCESS_DENIED"
    default_message = "This notification is addressed to someone else."


class NotificationAlreadyResponded(ApiError):
    status = 409
    code = "NOTIFICATION_ALREADY_RESPONDED"
    default_message = "This notification has already been answered."


class NotificationExpired(ApiError):
    status = 409
    code = "NOTIFICATION_EXPIRED"
    default_message = "This notification's deadline has passed."


class NotificationInvalidated(ApiError):
    status = 409
    code = "NOTIFICATION_INVALIDATED"
    default_message = "The service withdrew this notification."


class MissingRequiredField(ApiError):
    status = 400
    code = "MISSING_REQUIRED_FIELD"
    default_message = "A required field is missing."


class InvalidActionId(ApiError):
    status = 400
    code = "INVALID_ACTION_ID"
    default_message = "This notification has no action with that action_id."


class InvalidResponseData(ApiError):
    status = 400
    code = "INVALID_RESPONSE_DATA"
    default_message = "response_data does not have the shape this action's response_type expects."


class ConstraintViolation(ApiError):
    status = 422
    code = "CONSTRAINT_VIOLATION"
    default_message = "response_data breaks one of this action's constraints."
