"""The private file storage, encrypted: every file is written sealed and read back opened.

Case documents, disbursement attachments, receipts and report files all live in the ``default``
storage. On disk each file is ``kernel.crypto``'s file framing (a header naming the key, then
AES-256-GCM), so the private folder (and any backup of it) holds no readable document. The
application sees plain bytes: ``open()`` returns the decrypted content, ``save()`` encrypts.

Files are held in memory while they are sealed or opened; uploads are capped at
``DOCUMENT_MAX_BYTES`` (20 MB by default) and reports are a few MB, so that is deliberate.
"""

from __future__ import annotations

import os
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from kernel.crypto import SEALED_OVERHEAD, bytes_key_id, keyring


class EncryptedFileSystemStorage(FileSystemStorage):
    def _save(self, name: str, content: File[Any]) -> str:
        content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode()
        saved: str = super()._save(name, ContentFile(keyring().encrypt_bytes(data)))  # type: ignore[misc]
        return saved

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("Encrypted files are written with save(), not opened for writing.")
        with super()._open(name, "rb") as raw:  # type: ignore[misc]
            blob = raw.read()
        opened = ContentFile(keyring().decrypt_bytes(blob), name=name)
        opened.mode = "rb"
        return opened

    def size(self, name: str) -> int:
        """The size of the plain content (what a download sends): the sealed file less its fixed framing."""
        return super().size(name) - SEALED_OVERHEAD

    def rewrite_with_newest_key(self, name: str) -> bool:
        """Re-seal one stored file with the first key if it is under an older one (or not sealed).

        Returns whether the file was rewritten. Used by ``manage.py reencrypt``.
        """
        path = self.path(name)
        with open(path, "rb") as handle:
            blob = handle.read()
        ring = keyring()
        found = bytes_key_id(blob)
        if found == ring.primary_id:
            return False
        plain = blob if found is None else ring.decrypt_bytes(blob)
        sealed = ring.encrypt_bytes(plain)
        temporary = f"{path}.reencrypt"
        with open(temporary, "wb") as handle:
            handle.write(sealed)
        os.replace(temporary, path)  # atomic: a crash leaves the old file or the new one
        return True
