"""Secrets Trail must read back in clear (a webhook's signing secret), encrypted at rest.

Fernet (AES-128-CBC with HMAC-SHA256) under a key derived from the deployment's secret key with
HKDF, so a copy of the database alone does not give the secrets away. Changing the deployment's
secret key makes sealed secrets unreadable: rotate webhook secrets with it (recreate the
webhooks).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class Unsealable(Exception):
    """A sealed value this key cannot open (sealed under another key, or altered)."""


class Sealer:
    def __init__(self, secret_key: str, purpose: str = "trail webhook secrets") -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except InvalidToken:
            raise Unsealable("the secret was sealed under another key, or altered") from None
