"""Making and digesting the secrets this server hands out."""

import base64
import hashlib
import secrets

SERVICE_KEY_PREFIX = "sk_"
USER_TOKEN_PREFIX = "ut_"
WEBHOOK_SECRET_PREFIX = "whsec_"
DISPLAY_PREFIX_LENGTH = 10


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def new_webhook_secret() -> str:
    # Standard Webhooks: `whsec_` followed by base64 of 24 to 64 random bytes.
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def display_prefix(secret: str) -> str:
    return secret[:DISPLAY_PREFIX_LENGTH]
