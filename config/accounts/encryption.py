"""Webhook signing secrets at rest (contract 10): encrypted, so a copy of the database alone cannot
sign a webhook.

`cryptography`'s MultiFernet over the keys of WEBHOOK_SECRET_KEYS (comma-separated Fernet keys):
the first encrypts, every one decrypts, so a new key goes first, `rotate_webhook_encryption`
re-encrypts every secret under it, and the old key can then be dropped. When the setting is unset,
one key is derived from SECRET_KEY with HKDF under a purpose of its own (so it is no other use of
SECRET_KEY); changing SECRET_KEY then makes the stored secrets unreadable, which is why production
should set WEBHOOK_SECRET_KEYS. The derived key also decrypts (last) when the setting is set, so
setting it for the first time loses nothing.
"""

import base64
import functools
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models.query_utils import DeferredAttribute

DERIVED_KEY_PURPOSE = b"loopback: webhook secrets at rest"


class UnreadableSecret(ImproperlyConfigured):
    """A stored secret that no key of WEBHOOK_SECRET_KEYS decrypts."""


def derived_key(secret_key: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=DERIVED_KEY_PURPOSE)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


def key_errors(keys: list[str]) -> list[str]:
    """What is wrong with these WEBHOOK_SECRET_KEYS, by position (never quoting a key)."""
    errors = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(
                f"WEBHOOK_SECRET_KEYS: key {position} of {len(keys)} is not a Fernet key "
                "(32 bytes, url-safe base64: 44 characters)."
            )
    return errors


@functools.lru_cache(maxsize=4)
def _multi_fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    errors = key_errors(list(keys))
    if errors:
        raise ImproperlyConfigured(" ".join(errors))
    # The derived key always decrypts last, so a deployment that starts setting
    # WEBHOOK_SECRET_KEYS still reads what it stored before; `rotate_webhook_encryption` then
    # moves every secret under the first key.
    return MultiFernet([*(Fernet(key) for key in keys), Fernet(derived_key(secret_key))])


def _fernet() -> MultiFernet:
    # Keyed on the settings as they are now, so a deployment's (and a test's) settings take effect.
    return _multi_fernet(tuple(settings.WEBHOOK_SECRET_KEYS), settings.SECRET_KEY)


def encrypt(clear: str) -> str:
    return _fernet().encrypt(clear.encode()).decode()


def decrypt(token: str) -> str:
    return _decrypt(_fernet(), token)


# Each trigger and webhook delivery decrypts its service's secret (about 100 µs of HMAC check and
# AES). A token is immutable: a rotated secret, or one re-encrypted under a new key, is a new
# token (Fernet's are never the same twice), so a cached clear text can never be a stale one. Keyed
# by the keys too, so a key dropped from WEBHOOK_SECRET_KEYS stops decrypting at once. Bounded;
# a refused token is not cached (the exception passes through).
@functools.lru_cache(maxsize=256)
def _decrypt(fernet: MultiFernet, token: str) -> str:
    try:
        return fernet.decrypt(token.encode()).decode()
    except InvalidToken:
        raise UnreadableSecret(
            "A stored webhook secret cannot be decrypted with any key of WEBHOOK_SECRET_KEYS "
            "(or, when it is unset, with the key derived from SECRET_KEY)."
        ) from None


class Sealed:
    """A secret as read from the database, decrypted only when the attribute is read.

    Every request with a service key loads its service; decrypting its secret there would be paid
    by every request for the few that sign something.
    """

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __repr__(self) -> str:
        return "Sealed(...)"


class _DecryptOnRead(DeferredAttribute):
    # A data descriptor (it has __set__), so every read passes through __get__ even though the
    # value lives in the instance's __dict__, where Django looks for loaded and deferred fields.
    def __get__(self, instance: Any, cls: Any = None) -> Any:
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            value = decrypt(value.token)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedSecretField(models.TextField):
    """A secret in clear on the model instance and encrypted in the database; "" (none) stays "".

    Each save encrypts afresh under the first key (Fernet tokens differ every time), so saving a
    loaded row re-encrypts it, and the column can be neither searched nor compared: nothing looks
    a secret up by value.
    """

    descriptor_class = _DecryptOnRead

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return Sealed(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
