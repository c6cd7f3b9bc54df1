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
nothing was saved" with a 422 and the service's transaction rolls its rows back; and it is an
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

**Or in an S3-compatible object store** (``PRIVATE_STORAGE=s3``: ``EncryptedS3Storage``, on
django-storages' ``S3Storage``), so that web and worker processes on several machines share the
files. The guarantees are the same. Every object is the same sealed framing (a file copied between
the folder and the bucket stays readable), and the application sees plain bytes. Never a partial object:
an object is written with one ``PutObject`` of the whole sealed content, and S3 makes an object
visible only once its PUT has completed (a failed or interrupted PUT leaves the previous state,
here: no object). Never a replaced one: the name is checked first, as on disk, and the PUT is
conditional (``If-None-Match: *``) so a name taken meanwhile is refused and the next free one used.
An object whose transaction rolls back is deleted by the same commit-callback finalizer. Any
error of the store (refused, timed out: the client's timeouts and retries are bounded by
settings, so a hung store costs seconds, never a frozen request) is ``FileNotStored`` on a
write and ``ObjectStoreError`` (an ``OSError``) on a read or a delete. Objects are private:
no ACL is ever sent (the bucket's private default applies; a public ``default_acl`` is refused at
start) and ``url()`` raises: no signed, short-lived download URL can leak, every download goes
through a permission-checked view.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import posixpath
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from kernel.crypto import FILE_MAGIC, KEY_ID_CHARS, SEALED_OVERHEAD, bytes_key_id, keyring
from kernel.hosts import is_local_host
from kernel.uploads import UploadRejected

logger = logging.getLogger(__name__)

# The prefix of a file being written; such a file is never referenced by a row.
PARTIAL_PREFIX = ".partial-"
_NO_HARD_LINKS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP})
# An unreferenced file younger than this may belong to a transaction still open: never deleted.
ORPHAN_MIN_AGE = timedelta(hours=1)
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)})
# What every object is stored as: sealed bytes, whatever the upload was (the type would tell).
SEALED_CONTENT_TYPE = "application/octet-stream"
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_NAME_TAKEN_CODES = frozenset({"412", "PreconditionFailed", "409", "ConditionalRequestConflict"})


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


class ObjectStoreError(OSError):
    """The object store refused or did not answer (not: the object does not exist). Names the error code only."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(errno.EIO, f"the object store failed: {_error_code(cause)}")


def _error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"{error.get('Code', 'unknown')} (HTTP {status})"
    return type(exc).__name__


def _is_missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code", "")) in _MISSING_CODES


@contextlib.contextmanager
def _store_errors(name: str) -> Iterator[None]:
    """The object store's errors as the storage API's: a missing object is ``FileNotFoundError``,
    anything else the store did (refused, timed out) ``ObjectStoreError``."""
    try:
        yield
    except ClientError as exc:
        if _is_missing(exc):
            raise FileNotFoundError(errno.ENOENT, "no such stored file", name) from exc
        raise ObjectStoreError(exc) from exc
    except BotoCoreError as exc:
        raise ObjectStoreError(exc) from exc


def _delete_unless_kept(storage: Storage, name: str, kept: list[bool]) -> None:
    # Runs when Django drops the commit callback (or at interpreter exit): no logging on success,
    # since at exit the log streams may be closed already.
    if not kept:
        with contextlib.suppress(Exception):  # gone already, or left to the orphan check
            storage.delete(name)


def delete_on_rollback(*, storage: Storage, name: str) -> None:
    """Delete ``name`` from ``storage`` if the current transaction (or savepoint) rolls back; keep it if it commits.

    See the module docstring for how. Outside a transaction (autocommit) the file is kept at once,
    without touching the database connection.
    """
    if not transaction.get_connection().in_atomic_block:
        return
    kept: list[bool] = []

    def keep() -> None:
        kept.append(True)

    weakref.finalize(keep, _delete_unless_kept, storage, name, kept)
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


def _sealed(content: File[Any]) -> bytes:
    content.seek(0)
    data = content.read()
    if isinstance(data, str):
        data = data.encode()
    return keyring().encrypt_bytes(data)


class EncryptedFileSystemStorage(FileSystemStorage):
    def _save(self, name: str, content: File[Any]) -> str:
        sealed = _sealed(content)
        try:
            name = self._write_atomically(name, sealed)
        except OSError as exc:
            logger.error(
                "storage: a file could not be stored (%s); nothing was kept",
                errno.errorcode.get(exc.errno or 0, exc.errno),
            )
            raise FileNotStored(exc) from exc
        name = str(name).replace("\\", "/")
        delete_on_rollback(storage=self, name=name)
        return name

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


class EncryptedS3Storage(S3Storage):
    """The private storage in an S3-compatible bucket: sealed objects, never public, no URL (module docstring).

    Options (``STORAGES["default"]["OPTIONS"]``, set from ``S3_*`` by the settings): django-storages'
    ``bucket_name``, ``endpoint_url``, ``region_name``, ``access_key``, ``secret_key``, ``location``
    (the key prefix), ``object_parameters`` (server-side encryption), plus ``connect_timeout`` and
    ``read_timeout`` (seconds), ``max_attempts`` (every try of one call, the first included) and
    ``conditional_writes`` (send ``If-None-Match: *``; off only for a store that refuses it).
    """

    client_config: Any
    # Never replace an object that is there: a name in use gets the next free one, as on disk.
    file_overwrite = False
    querystring_auth = False

    def get_default_settings(self) -> dict[str, Any]:
        return {
            **super().get_default_settings(),
            "connect_timeout": 2,
            "read_timeout": 5,
            "max_attempts": 2,
            "conditional_writes": True,
        }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if not self.bucket_name:
            raise ImproperlyConfigured("The private S3 storage needs a bucket: set S3_BUCKET.")
        if self.file_overwrite:
            raise ImproperlyConfigured("The private S3 storage never replaces an object: file_overwrite must be off.")
        if self.default_acl not in (None, "private"):
            raise ImproperlyConfigured(
                f"The private S3 storage refuses the ACL {self.default_acl!r}: its objects are never public."
            )
        self.client_config = self.client_config.merge(
            Config(
                connect_timeout=self.connect_timeout,
                read_timeout=self.read_timeout,
                retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            )
        )

    @property
    def client(self) -> Any:
        return self.connection.meta.client

    def _key(self, name: str) -> str:
        return str(self._normalize_name(clean_name(name)))

    def _save(self, name: str, content: File[Any]) -> str:
        sealed = _sealed(content)
        name = clean_name(name)
        try:
            name = self._put_whole(name, sealed)
        except (ClientError, BotoCoreError) as exc:
            logger.error("storage: an object could not be stored (%s); nothing was kept", _error_code(exc))
            raise FileNotStored(ObjectStoreError(exc)) from exc
        delete_on_rollback(storage=self, name=name)
        return name

    def _put_whole(self, name: str, sealed: bytes) -> str:
        """Store ``sealed`` under ``name`` (or the next free name) in one PUT; return the name used."""
        parameters = {**self.get_object_parameters(name), "ContentType": SEALED_CONTENT_TYPE}
        if self.conditional_writes:
            parameters["IfNoneMatch"] = "*"  # refused (412) if the name was taken since it was checked
        while True:
            try:
                self.client.put_object(Bucket=self.bucket_name, Key=self._key(name), Body=sealed, **parameters)
            except ClientError as exc:
                if str(exc.response.get("Error", {}).get("Code", "")) not in _NAME_TAKEN_CODES:
                    raise
                name = self.get_available_name(name)
                continue
            return name

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        try:
            return str(super().get_available_name(name, max_length))
        except ObjectStoreError as exc:
            logger.error("storage: an object could not be stored (%s); nothing was kept", exc.strerror)
            raise FileNotStored(exc) from exc

    def _get_sealed(self, name: str) -> bytes:
        with _store_errors(name):
            response = self.client.get_object(Bucket=self.bucket_name, Key=self._key(name))
            return cast(bytes, response["Body"].read())

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("Encrypted files are written with save(), not opened for writing.")
        opened = ContentFile(keyring().decrypt_bytes(self._get_sealed(name)), name=name)
        opened.mode = "rb"
        return opened

    def exists(self, name: str) -> bool:
        try:
            with _store_errors(name):
                self.client.head_object(Bucket=self.bucket_name, Key=self._key(name))
        except FileNotFoundError:
            return False
        return True

    def delete(self, name: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket_name, Key=self._key(name))  # no error if it is gone
        except (ClientError, BotoCoreError) as exc:
            raise ObjectStoreError(exc) from exc

    def size(self, name: str) -> int:
        """The size of the plain content (what a download sends): the sealed object less its fixed framing."""
        with _store_errors(name):
            length = self.client.head_object(Bucket=self.bucket_name, Key=self._key(name))["ContentLength"]
        return int(length) - SEALED_OVERHEAD

    def url(
        self, name: str | None, parameters: object = None, expire: object = None, http_method: object = None
    ) -> str:
        """Refused: a private file has no address of its own, signed or not; a permission-checked view serves it."""
        raise NotImplementedError(
            "Private files have no URL: they are downloaded through the permission-checked views only."
        )

    def stored_files(self) -> Iterator[StoredFile]:
        """Every object under this storage's prefix (sizes and times from the listing, no content read)."""
        prefix = f"{self.location.strip('/')}/" if self.location.strip("/") else ""
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket_name, Prefix=prefix)
            for page in pages:
                for entry in page.get("Contents", ()):
                    yield StoredFile(entry["Key"][len(prefix) :], int(entry["Size"]), entry["LastModified"])
        except (ClientError, BotoCoreError) as exc:
            raise ObjectStoreError(exc) from exc

    def sealed_key_id(self, name: str) -> str | None:
        """The id of the key that sealed object ``name`` (None: not sealed), from its first bytes only."""
        header = len(FILE_MAGIC) + KEY_ID_CHARS
        with _store_errors(name):
            response = self.client.get_object(
                Bucket=self.bucket_name, Key=self._key(name), Range=f"bytes=0-{header - 1}"
            )
            return bytes_key_id(cast(bytes, response["Body"].read()))

    def rewrite_with_newest_key(self, name: str) -> bool:
        """Re-seal one stored object with the first key if it is under an older one (or not sealed).

        Returns whether it was rewritten: one PUT replacing the object whole (readers get the old
        object or the new one). For ``manage.py reencrypt``.
        """
        blob = self._get_sealed(name)
        ring = keyring()
        found = bytes_key_id(blob)
        if found == ring.primary_id:
            return False
        plain = blob if found is None else ring.decrypt_bytes(blob)
        parameters = {**self.get_object_parameters(name), "ContentType": SEALED_CONTENT_TYPE}
        try:
            self.client.put_object(
                Bucket=self.bucket_name, Key=self._key(name), Body=ring.encrypt_bytes(plain), **parameters
            )
        except (ClientError, BotoCoreError) as exc:
            raise ObjectStoreError(exc) from exc
        return True


@checks.register(checks.Tags.security, deploy=True)
def check_object_store_tls(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """``manage.py check --deploy``: the private files travel to an object store over https only."""
    default = cast(dict[str, Any], settings.STORAGES["default"])
    backend = default["BACKEND"]
    endpoint = default.get("OPTIONS", {}).get("endpoint_url") or ""
    if backend != "kernel.storage.EncryptedS3Storage" or not endpoint:
        return []
    parts = urlsplit(endpoint)
    if parts.scheme == "https" or is_local_host(parts.hostname):
        return []
    return [
        checks.Warning(
            "S3_ENDPOINT_URL is not an https:// address: the store's credentials and the (sealed) private "
            "files would travel in plain text.",
            hint="Use the store's https:// endpoint (plain http only to a store on this machine).",
            id="kernel.W003",
        )
    ]


# --- Orphaned files: stored, but referenced by no row ------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    """A file in private storage: its storage name (random, never a person's or an upload's name), size, age."""

    name: str
    size: int
    modified_at: datetime

    def age(self, now: datetime) -> timedelta:
        return now - self.modified_at


def _place(storage: object) -> tuple[str, ...] | None:
    """Where a storage keeps its files: two storages with the same place hold the same files."""
    if isinstance(storage, EncryptedS3Storage):
        return ("s3", storage.endpoint_url or "", storage.bucket_name, storage.location.strip("/"))
    if isinstance(storage, FileSystemStorage):
        return ("file", os.path.realpath(storage.location))
    return None


def _referenced_names(storage: Storage) -> set[str]:
    """The names every ``FileField`` of every installed model stores in ``storage``."""
    names: set[str] = set()
    place = _place(storage)
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.FileField) or _place(field.storage) != place:
                continue
            values = model._base_manager.exclude(**{f"{field.name}__isnull": True}).exclude(**{field.name: ""})
            names.update(str(name) for name in values.values_list(field.name, flat=True).iterator())
    return names


def stored_files(*, storage: Storage | None = None) -> Iterator[StoredFile]:
    """Every file of the private storage (a folder walked, or a bucket's objects listed); no content read.

    Raises ``ObjectStoreError`` if the object store cannot be listed.
    """
    storage = storage or default_storage
    if isinstance(storage, EncryptedS3Storage):
        yield from storage.stored_files()
        return
    if not isinstance(storage, FileSystemStorage) or not os.path.isdir(storage.location):
        return
    for folder, _dirs, files in os.walk(storage.location):
        for file_name in files:
            path = os.path.join(folder, file_name)
            try:
                status = os.stat(path)
            except FileNotFoundError:
                continue  # removed meanwhile
            name = os.path.relpath(path, storage.location).replace(os.sep, "/")
            yield StoredFile(name, status.st_size, datetime.fromtimestamp(status.st_mtime, tz=UTC))


def orphaned_files(*, storage: Storage | None = None) -> list[StoredFile]:
    """Every file in the private storage that no row references (partial writes included), oldest first.

    Reads file sizes and modification times only, never contents. A file whose transaction has not
    committed yet is listed too: hence ``orphaned_files_delete`` keeps the young ones.
    """
    storage = storage or default_storage
    if _place(storage) is None:
        return []
    referenced = _referenced_names(storage)
    found = [stored for stored in stored_files(storage=storage) if stored.name not in referenced]
    return sorted(found, key=lambda stored: (stored.modified_at, stored.name))


def orphaned_files_delete(*, older_than: timedelta = ORPHAN_MIN_AGE, now: datetime | None = None) -> list[StoredFile]:
    """Delete the orphaned files older than ``older_than``; returns those deleted.

    Side effects: files removed from private storage (each checked again against the rows just before).
    """
    now = now or timezone.now()
    storage = default_storage
    deleted = []
    candidates = [stored for stored in orphaned_files(storage=storage) if stored.age(now) >= older_than]
    referenced = _referenced_names(storage) if candidates else set()
    for stored in candidates:
        if stored.name in referenced:
            continue
        storage.delete(stored.name)  # a file already gone is no error, on disk or in a bucket
        deleted.append(stored)
    return deleted
