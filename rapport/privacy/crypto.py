"""Field encryption for special-category data, keyed hashes for lookups, and pseudonyms.

Values are sealed with Fernet (AES-128-CBC with HMAC-SHA256: authenticated encryption) through
a ``MultiFernet`` key ring: the first key encrypts, every key decrypts, so rows written under an
old key stay readable while ``rapport privacy rotate-keys`` re-encrypts them with the new one.

Keys come from ``RAPPORT_SECRET_KEYS`` (comma-separated Fernet keys, newest first) or, when it
is unset, from the key file ``RAPPORT_KEY_FILE`` (default ``$RAPPORT_HOME/field_keys``, one key
a line, created with a fresh key on first use).

A separate, never-rotated *index key* (``RAPPORT_INDEX_KEY`` or ``$RAPPORT_HOME/index_key``)
makes keyed hashes: the blind index that lets lists filter on an encrypted value, the
tombstones of erased people and the pseudonyms audit entries keep after an erasure. Rotating
it would orphan every hash, which is why it is kept apart from the encryption keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from rapport.core.env import env_list, env_str, rapport_home

SEALED = "$enc"  # a sealed JSON value is {"$enc": "<fernet token>"}
TEXT_PREFIX = "enc1:"  # a sealed string column holds "enc1:<fernet token>"
BLIND_PREFIX = "h1:"  # a blind-index entry in a value_text column

_lock = threading.Lock()
_ring: MultiFernet | None = None
_keys: list[bytes] = []
_index_key: bytes | None = None


class CryptoKeyError(Exception):
    """The key configuration is unusable (bad key, empty ring)."""


def _key_file() -> Path:
    return Path(env_str("RAPPORT_KEY_FILE") or rapport_home() / "field_keys")


def _index_key_file() -> Path:
    return Path(env_str("RAPPORT_INDEX_KEY_FILE") or rapport_home() / "index_key")


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def load_keys() -> list[bytes]:
    """The encryption keys, newest first."""
    raw = env_list("RAPPORT_SECRET_KEYS")
    if not raw:
        path = _key_file()
        if not path.exists():
            try:
                _write_private(path, Fernet.generate_key().decode() + "\n")
            except FileExistsError:
                pass  # another process created it first
        raw = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if not raw:
        raise CryptoKeyError("No field-encryption key: set RAPPORT_SECRET_KEYS or fill the key file.")
    keys = [k.encode() for k in raw]
    for key in keys:
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise CryptoKeyError("A field-encryption key is not a valid Fernet key (32 url-safe base64 bytes).") from None
    return keys


def _load_index_key() -> bytes:
    raw = env_str("RAPPORT_INDEX_KEY")
    if raw:
        return raw.encode()
    path = _index_key_file()
    if not path.exists():
        try:
            _write_private(path, base64.urlsafe_b64encode(os.urandom(32)).decode() + "\n")
        except FileExistsError:
            pass
    return path.read_text().strip().encode()


def ring() -> MultiFernet:
    global _ring, _keys
    if _ring is None:
        with _lock:
            if _ring is None:
                _keys = load_keys()
                _ring = MultiFernet([Fernet(k) for k in _keys])
    return _ring


def index_key() -> bytes:
    global _index_key
    if _index_key is None:
        _index_key = _load_index_key()
    return _index_key


def reset() -> None:
    """Forgets the loaded keys (after the key file or the environment changed)."""
    global _ring, _keys, _index_key
    with _lock:
        _ring, _keys, _index_key = None, [], None


def primary_key_id() -> str:
    """A short, non-secret fingerprint of the key that encrypts now."""
    ring()
    return hashlib.sha256(_keys[0]).hexdigest()[:8]


def add_key_to_file() -> Path:
    """Puts a fresh key first in the key file (the old ones stay for reading)."""
    path = _key_file()
    old = path.read_text() if path.exists() else ""
    path.write_text(Fernet.generate_key().decode() + "\n" + old)
    path.chmod(0o600)
    reset()
    return path


# --- values ------------------------------------------------------------------------------------


def seal(value: Any) -> dict[str, str]:
    """A JSON value encrypted: ``{"$enc": token}``. Stored instead of the plain value."""
    token = ring().encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    return {SEALED: token.decode()}


def is_sealed(stored: Any) -> bool:
    return isinstance(stored, dict) and len(stored) == 1 and isinstance(stored.get(SEALED), str)


def unseal(stored: Any) -> Any:
    """The plain value of a sealed one; anything else is returned as it is."""
    if not is_sealed(stored):
        return stored
    try:
        return json.loads(ring().decrypt(stored[SEALED].encode()))
    except InvalidToken:
        raise CryptoKeyError("A sealed value cannot be decrypted with the configured keys.") from None


def seal_text(text: str) -> str:
    if not text:
        return ""
    return TEXT_PREFIX + ring().encrypt(text.encode()).decode()


def unseal_text(stored: str) -> str:
    if not stored or not stored.startswith(TEXT_PREFIX):
        return stored
    try:
        return ring().decrypt(stored[len(TEXT_PREFIX) :].encode()).decode()
    except InvalidToken:
        raise CryptoKeyError("A sealed text cannot be decrypted with the configured keys.") from None


def rotate_value(stored: Any) -> tuple[Any, bool]:
    """The sealed value re-encrypted with the primary key; ``changed`` is False for plain values."""
    if not is_sealed(stored):
        return stored, False
    return {SEALED: ring().rotate(stored[SEALED].encode()).decode()}, True


def rotate_text(stored: str) -> tuple[str, bool]:
    if not stored or not stored.startswith(TEXT_PREFIX):
        return stored, False
    return TEXT_PREFIX + ring().rotate(stored[len(TEXT_PREFIX) :].encode()).decode(), True


# --- keyed hashes ------------------------------------------------------------------------------


def keyed_hash(purpose: str, text: str, length: int = 32) -> str:
    """HMAC-SHA256 of ``text`` under the index key, separated by ``purpose``."""
    digest = hmac.new(index_key(), f"{purpose}\x00{text}".encode(), hashlib.sha256).hexdigest()
    return digest[:length]


def blind_index(item_key: str, value_text: str) -> str:
    """What ``value_text`` columns hold for a special item: equal values give equal entries."""
    return BLIND_PREFIX + keyed_hash(f"item:{item_key}", value_text)


def pseudonym(kind: str, record_id: Any) -> str:
    """A stable pseudonym for a record, used once its identity must no longer be recorded."""
    return "p:" + keyed_hash(f"pseudonym:{kind}", str(record_id), 16)
