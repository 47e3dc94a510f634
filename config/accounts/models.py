"""Services (the machines that own bots, notifications and actions) and the two credential kinds.

Secrets are long and random, so a SHA-256 digest looked up by a unique index is the right hash:
a password hasher would cost tens of milliseconds on every request for no gain.
"""

import uuid
from datetime import datetime
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from config.accounts.encryption import EncryptedSecretField
from config.accounts.secrets import SERVICE_KEY_PREFIX, USER_TOKEN_PREFIX, digest, display_prefix


class Service(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, unique=True)
    callback_url = models.URLField(max_length=2000, blank=True, default="")
    # The Standard Webhooks signing secret (`whsec_...`). Signing needs the secret itself, so it is
    # kept encrypted (config/accounts/encryption.py), not hashed; it is shown once, when issued or
    # rotated, and never by the admin or the API.
    webhook_secret = EncryptedSecretField()
    # The secret before the last rotation, which keeps signing beside the new one until
    # `previous_secret_valid_until` (WEBHOOK_SECRET_OVERLAP after the rotation); "" when none.
    previous_webhook_secret = EncryptedSecretField(blank=True, default="")
    # Set by the rotation only (`service_webhook_secret_rotate`), so no form edits it.
    previous_secret_valid_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(previous_webhook_secret="", previous_secret_valid_until__isnull=True)
                | (~Q(previous_webhook_secret="") & Q(previous_secret_valid_until__isnull=False)),
                name="service_previous_secret_has_end",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def signing_secrets(self, *, now: datetime) -> list[str]:
        """The secrets a request sent now is signed with: the current one, then the previous one
        while its overlap lasts."""
        # The time first: past the window the previous secret is not even decrypted.
        valid_until = self.previous_secret_valid_until
        if valid_until is not None and now < valid_until and self.previous_webhook_secret:
            return [self.webhook_secret, self.previous_webhook_secret]
        return [self.webhook_secret]


class CredentialQuerySet[C: "Credential"](models.QuerySet[C]):
    def create_for_secret(self, secret: str, **owner: Any) -> C:
        """Store a newly issued secret by its digest and its display prefix."""
        digested = {self.model.digest_field: digest(secret)}
        return self.create(**digested, prefix=display_prefix(secret), **owner)

    def revoke(self) -> int:
        """Revoke those not revoked yet (an earlier revocation keeps its time); returns how many."""
        return self.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


class Credential(models.Model):
    """What service keys and user tokens share: kept as a digest, shown by prefix, revocable."""

    # Each kind keeps its digest in a column of its own name, and its secrets start with their own
    # prefix (also a constraint on `prefix`).
    digest_field: ClassVar[str]
    secret_prefix: ClassVar[str]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The first characters of the secret, enough for a person to tell them apart; not a secret.
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = CredentialQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({'active' if self.is_active else 'revoked'})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ServiceKey(Credential):
    digest_field = "key_hash"
    secret_prefix = SERVICE_KEY_PREFIX

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="keys")
    key_hash = models.CharField(max_length=64, unique=True)

    class Meta(Credential.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(prefix__startswith="sk_"), name="service_key_prefix_sk"),
        ]


class UserToken(Credential):
    digest_field = "token_hash"
    secret_prefix = USER_TOKEN_PREFIX

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    token_hash = models.CharField(max_length=64, unique=True)

    class Meta(Credential.Meta):
        constraints = [
            models.CheckConstraint(condition=Q(prefix__startswith="ut_"), name="user_token_prefix_ut"),
        ]
