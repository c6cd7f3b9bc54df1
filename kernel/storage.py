"""The private file storage, encrypted: every file is written sealed and read back opened.

Case documents, disbursement attachments, receipts and report files all live in the ``default``
storage. On disk each file is ``kernel.crypto``'s file framing (a header naming the key, then
AES-256-GCM), so the private folder (and any backup of it) holds no readable document. The
application sees plain bytes: ``open()`` returns the decrypted content, ``save()`` encrypts.

Files are held in memory while they are sealed or opened; uploads are capped at
``DOCUMENT_MAX_BYTES`` (20 MB by default) and reports are a few MB, so that is deliberate.

**Never a partial file.** A file is written to a temporary file in its own folder (``.partial-…``,
by Django's own ``FileSystemStorage._save``), ``fsync``-ed, then linked under its final name
(``os.link``, which never replaces a file already there) and the folder ``fsync``-ed: the final name holds the whole sealed file or does not
exist. On any ``OSError`` (a full disk, ``ENOSPC``/``EDQUOT``; a file-size limit, ``EFBIG``; a
read-only or failing disk) the temporary file is removed and ``FileNotStored`` is raised. It is an
``UploadRejected`` (a ``ValidationError``), so the upload forms show "the file could not be stored;
nothing was saved" with a 400 and the service's transaction rolls its rows back; and it is an
``OSError``, so a task that writes a file (a receipt, a report) retries it like any passing fault
(``kernel.retry``).

**A file whose transaction rolls back is removed.** Django has no ``on_rollback`` hook, so each save
registers a small ``transaction.on_commit`` callback that marks the file as kept, and a
``weakref.finalize`` on that callback that deletes the file unless it was marked. When the
transaction commits, Django calls the callback (kept) and drops it; when the transaction or the
savepoint the file was written in rolls back, or the connection dies, Django discards its pending
callbacks, the callback is freed and the finalizer deletes the file at once; at interpreter exit
with the transaction still open (a killed request's transaction cannot commit) the finalizer runs
too. Outside a transaction ``on_commit`` runs the callback immediately: the file is kept. Whatever
still escapes (a process killed between writing and rolling back) is an orphan that
``manage.py orphaned_files`` lists and, with ``--delete``, removes after an hour.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import posixpath
import uuid
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.apps import apps
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.crypto import SEALED_OVERHEAD, bytes_key_id, keyring
from kernel.uploads import UploadRejected

logger = logging.getLogger(__name__)

# The prefix of a file being written; such a file is never referenced by a row.
PARTIAL_PREFIX = ".partial-"
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP})
# An unreferenced file younger than this may belong to a transaction still open: never deleted.
ORPHAN_MIN_AGE = timedelta(hours=1)
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)})


class FileNotStored(UploadRejected, OSError):
    """The storage could not write a file (disk full, a size limit, a failing disk); nothing was kept."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(
            _(
                "The file could not be stored; nothing was saved. Try again later, and tell your administrator "
                "if it happens again: the server's storage may be full."
            ),
            code="storage_full" if cause.errno in DISK_FULL_ERRNOS else "storage_failed",
        )
        self.errno = cause.errno


def _remove_unless_kept(path: str, kept: list[bool]) -> None:
    # Runs when Django drops the commit callback (or at interpreter exit): no logging on success,
    # since at exit the log streams may be closed already.
    if not kept:
        with contextlib.suppress(OSError):  # gone already, or left to the orphan check
            os.unlink(path)


def remove_on_rollback(path: str) -> None:
    """Delete the file at ``path`` if the current transaction (or savepoint) rolls back; keep it if it commits.

    See the module docstring for how. Outside a transaction (autocommit) the file is kept at once,
    without touching the database connection.
    """
    if not transaction.get_connection().in_atomic_block:
        return
    kept: list[bool] = []

    def keep() -> None:
        kept.append(True)

    weakref.finalize(keep, _remove_unless_kept, path, kept)
    transaction.on_commit(keep)


def _fsync_path(path: str) -> None:
    """Flush a file's or a folder's data to disk (a folder: the names in it)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


class EncryptedFileSystemStorage(FileSystemStorage):
    def _save(self, name: str, content: File[Any]) -> str:
        content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode()
        sealed = keyring().encrypt_bytes(data)
        try:
            name = self._write_atomically(name, sealed)
        except OSError as exc:
            logger.error(
                "storage: a file could not be stored (%s); nothing was kept",
                errno.errorcode.get(exc.errno or 0, exc.errno),
            )
            raise FileNotStored(exc) from exc
        remove_on_rollback(self.path(name))
        return str(name).replace("\\", "/")

    def _write_atomically(self, name: str, sealed: bytes) -> str:
        """Write ``sealed`` under ``name`` (or the next free name) whole or not at all; return the name used.

        Django's own ``_save`` writes the temporary file (creating folders, applying the permission
        settings); this adds the ``fsync``, the link under the final name and the clean-up.
        """
        folder = posixpath.dirname(name)
        temporary = posixpath.join(folder, f"{PARTIAL_PREFIX}{uuid.uuid4().hex}")
        final = ""
        try:
            temporary = super()._save(temporary, ContentFile(sealed))  # type: ignore[misc]
            temporary_path = self.path(temporary)
            _fsync_path(temporary_path)
            while True:
                candidate = self.path(name)
                try:
                    os.link(temporary_path, candidate)  # never replaces a file already there
                except FileExistsError:
                    name = self.get_available_name(name)
                    continue
                except OSError as exc:
                    if exc.errno not in _NO_HARD_LINKS or os.path.exists(candidate):
                        raise
                    os.rename(temporary_path, candidate)  # a file system without hard links (SMB)
                final = candidate
                break
            _fsync_path(os.path.dirname(candidate))
        except BaseException:
            if final:
                _unlink_quietly(final)
            raise
        finally:
            _unlink_quietly(self.path(temporary))
        return name

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
        try:
            with open(temporary, "wb") as handle:
                handle.write(sealed)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)  # atomic: a crash leaves the old file or the new one
        finally:
            _unlink_quietly(temporary)
        return True


# --- Orphaned files: stored, but referenced by no row ------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    """A file in private storage: its storage name (random, never a person's or an upload's name), size, age."""

    name: str
    size: int
    modified_at: datetime

    def age(self, now: datetime) -> timedelta:
        return now - self.modified_at


def _referenced_names(storage: FileSystemStorage) -> set[str]:
    """The names every ``FileField`` of every installed model stores in ``storage``."""
    names: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.FileField) or not _same_location(field.storage, storage):
                continue
            values = model._base_manager.exclude(**{f"{field.name}__isnull": True}).exclude(**{field.name: ""})
            names.update(str(name) for name in values.values_list(field.name, flat=True).iterator())
    return names


def _same_location(one: object, other: FileSystemStorage) -> bool:
    return isinstance(one, FileSystemStorage) and os.path.realpath(one.location) == os.path.realpath(other.location)


def orphaned_files(*, storage: FileSystemStorage | None = None) -> list[StoredFile]:
    """Every file in the private storage that no row references (partial writes included), oldest first.

    Reads file sizes and modification times only, never contents. A file whose transaction has not
    committed yet is listed too: hence ``orphaned_files_delete`` keeps the young ones.
    """
    storage = storage or cast(FileSystemStorage, default_storage)
    if not isinstance(storage, FileSystemStorage) or not os.path.isdir(storage.location):
        return []
    referenced = _referenced_names(storage)
    found = []
    for folder, _dirs, files in os.walk(storage.location):
        for file_name in files:
            path = os.path.join(folder, file_name)
            name = os.path.relpath(path, storage.location).replace(os.sep, "/")
            if name in referenced:
                continue
            try:
                status = os.stat(path)
            except FileNotFoundError:
                continue  # removed meanwhile
            found.append(StoredFile(name, status.st_size, datetime.fromtimestamp(status.st_mtime, tz=UTC)))
    return sorted(found, key=lambda stored: (stored.modified_at, stored.name))


def orphaned_files_delete(*, older_than: timedelta = ORPHAN_MIN_AGE, now: datetime | None = None) -> list[StoredFile]:
    """Delete the orphaned files older than ``older_than``; returns those deleted.

    Side effects: files removed from private storage (each checked again against the rows just before).
    """
    now = now or timezone.now()
    storage = cast(FileSystemStorage, default_storage)
    deleted = []
    candidates = [stored for stored in orphaned_files(storage=storage) if stored.age(now) >= older_than]
    referenced = _referenced_names(storage) if candidates else set()
    for stored in candidates:
        if stored.name in referenced:
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(storage.path(stored.name))
            deleted.append(stored)
    return deleted
