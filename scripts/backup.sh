#!/usr/bin/env bash
# Back up Amparo: the PostgreSQL database FIRST, then the private files, then the keys (apart).
#
#   scripts/backup.sh BACKUP_DIR KEYS_DIR
#
# Run it with the application's environment (the same DATABASE_URL, PRIVATE_MEDIA_ROOT, SECRET_KEY,
# FIELD_ENCRYPTION_KEYS, BLIND_INDEX_KEY, or their NAME_FILE variants, and DJANGO_SETTINGS_MODULE if not
# amparo.settings): the database and the files folder are read from Django's settings, so the backup
# is of exactly what the application uses. It writes
#
#   BACKUP_DIR/amparo-<UTC time>/database.dump   pg_dump --format=custom
#   BACKUP_DIR/amparo-<UTC time>/files.tar       the private files folder (already encrypted on disk)
#   BACKUP_DIR/amparo-<UTC time>/manifest        the key fingerprints and the SHA-256 of each part
#   BACKUP_DIR/amparo-<UTC time>/SHA256SUMS      the same digests, for `sha256sum -c`
#   KEYS_DIR/amparo-<UTC time>.keys              SECRET_KEY, SECRET_KEY_FALLBACKS, FIELD_ENCRYPTION_KEYS,
#                                                BLIND_INDEX_KEY as NAME=value lines, mode 0600; encrypted
#                                                to BACKUP_KEYS_GPG_RECIPIENT (.keys.gpg) when that is set
#
# Why this order: rows reference files, never the other way round. A file written after the dump is
# in the tar but no row of the dump names it: an orphan (`manage.py orphaned_files` lists it), never a
# missing file. The keys are kept apart: the dump and the tar are useless without them, and they must
# never travel together. The backup folder appears under its final name only when it is complete.
# Exit status: 0 done; 1 usage or a failed step.
#
#   scripts/backup.sh --describe    prints the settings this environment resolves to (used by
#                                   restore.sh): key fingerprints, files folder, PG* connection names
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
[[ -x "$PYTHON" ]] || PYTHON=python3

log() { printf 'backup: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# What this environment resolves to, one NAME=value a line. The fingerprints are the application's
# own: the blind-index key's is the one stored in the database (casework.identity.key_fingerprint),
# the field keys' ids are those every ciphertext names (kernel.crypto.key_id); the SECRET_KEY's is a
# truncated SHA-256. None of them reveals a key.
describe() {
    "$PYTHON" "$ROOT/manage.py" shell --no-imports -c '
import hashlib
from django.conf import settings
from casework.identity import key_fingerprint
from kernel.crypto import keyring

database = settings.DATABASES["default"]
if database["ENGINE"] != "django.db.backends.postgresql":
    raise SystemExit("backup: DATABASE_URL is not PostgreSQL: back up " + str(database["NAME"]) + " by hand")
options = database.get("OPTIONS", {})
files = settings.STORAGES["default"]
in_bucket = files["BACKEND"] == "kernel.storage.EncryptedS3Storage"
store = "s3://" + files["OPTIONS"]["bucket_name"] + "/" + files["OPTIONS"].get("location", "") if in_bucket else "filesystem"
lines = {
    "blind_index_key_fingerprint": key_fingerprint(),
    "field_key_ids": ",".join(keyring().ids),
    "secret_key_fingerprint": hashlib.sha256(b"amparo.backup.secret-key\0" + settings.SECRET_KEY.encode()).hexdigest()[:16],
    # Files in an S3 bucket (PRIVATE_STORAGE=s3) are not in the archive: the bucket keeps them.
    "files_dir": "" if in_bucket else files["OPTIONS"]["location"],
    "files_store": store,
    "PGDATABASE": database["NAME"],
    "PGUSER": database.get("USER") or "",
    "PGPASSWORD": database.get("PASSWORD") or "",
    "PGHOST": database.get("HOST") or "",
    "PGPORT": str(database.get("PORT") or ""),
    "PGSSLMODE": options.get("sslmode", ""),
}
for name, value in lines.items():
    if "\n" in str(value):
        raise SystemExit(f"backup: {name} holds a line break")
    print(f"{name}={value}")
'
}

# Read describe's lines into DESCRIBED_* variables and export the PG* ones for libpq.
load_description() {
    local name value
    while IFS='=' read -r name value; do
        case "$name" in
            PG*) if [[ -n "$value" ]]; then export "$name=$value"; else unset "$name"; fi ;;
            blind_index_key_fingerprint | field_key_ids | secret_key_fingerprint | files_dir | files_store)
                printf -v "DESCRIBED_$name" '%s' "$value" ;;
        esac
    done < <(describe)
    [[ -n "${DESCRIBED_blind_index_key_fingerprint:-}" ]] || die "could not read the application's settings"
}

# The keys as the application resolved them (NAME or NAME_FILE, development defaults included), as
# NAME=value lines that restore.sh (or a systemd EnvironmentFile) reads back.
keys() {
    "$PYTHON" "$ROOT/manage.py" shell --no-imports -c '
import base64
from django.conf import settings

lines = {
    "SECRET_KEY": settings.SECRET_KEY,
    "SECRET_KEY_FALLBACKS": ",".join(settings.SECRET_KEY_FALLBACKS),
    "FIELD_ENCRYPTION_KEYS": ",".join(base64.urlsafe_b64encode(key).decode() for key in settings.FIELD_ENCRYPTION_KEYS),
    "BLIND_INDEX_KEY": settings.BLIND_INDEX_KEY,
}
for name, value in lines.items():
    if "\n" in value:
        raise SystemExit(f"backup: {name} holds a line break")
    print(f"{name}={value}")
'
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

if [[ "${1:-}" == "--describe" ]]; then
    describe
    exit 0
fi
[[ $# -eq 2 ]] || die "usage: scripts/backup.sh BACKUP_DIR KEYS_DIR (or --describe)"
backup_dir=$(mkdir -p "$1" && cd "$1" && pwd)
keys_dir=$(mkdir -p "$2" && cd "$2" && pwd)
case "$keys_dir/" in
    "$backup_dir"/*) die "KEYS_DIR must not be inside BACKUP_DIR: the keys are kept apart from the data" ;;
esac
case "$backup_dir/" in
    "$keys_dir"/*) die "BACKUP_DIR must not be inside KEYS_DIR: the keys are kept apart from the data" ;;
esac
command -v pg_dump >/dev/null || die "pg_dump not found (apt-get install postgresql-client)"

load_description
files_dir=$DESCRIBED_files_dir
stamp=$(date -u +%Y%m%dT%H%M%SZ)
name="amparo-$stamp"
work="$backup_dir/.$name.partial"
umask 077
mkdir "$work"
trap 'rm -rf "$work"' EXIT

# 1. The database, first. A custom-format dump is one consistent snapshot (a single transaction).
log "database $PGDATABASE → $name/database.dump"
pg_dump --format=custom --file="$work/database.dump" --no-password
dumped_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# 2. The private files, after: anything written since the dump is an orphan, never a missing file.
# Files being written (.partial-*) or re-sealed (*.reencrypt) are not finished files: left out.
log "files ${files_dir:-$DESCRIBED_files_store} → $name/files.tar"
if [[ "$DESCRIBED_files_store" != filesystem ]]; then
    # One bucket shared by every machine: it is kept by its own versioning and replication (docs/backup.md).
    log "files are in $DESCRIBED_files_store: not archived here (the bucket's versioning and replication keep them)"
    tar --create --file="$work/files.tar" --files-from=/dev/null
elif [[ -d "$files_dir" ]]; then
    set +e
    tar --create --file="$work/files.tar" --directory="$files_dir" \
        --exclude='.partial-*' --exclude='*.reencrypt' --exclude='*.open' .
    status=$?
    set -e
    # 1: a file changed or vanished while it was read (deleted by retention meanwhile): harmless.
    [[ $status -le 1 ]] || die "tar failed ($status)"
else
    log "warning: $files_dir does not exist: no files backed up"
    tar --create --file="$work/files.tar" --files-from=/dev/null
fi

# 3. The keys, apart, and protected on their own.
keys_file="$keys_dir/$name.keys"
plain_keys=$(mktemp "$keys_dir/.$name.keys.XXXXXX")
trap 'rm -rf "$work" "$plain_keys"' EXIT
keys >"$plain_keys" || die "could not read the keys from the application's settings"
if [[ -n "${BACKUP_KEYS_GPG_RECIPIENT:-}" ]]; then
    keys_file="$keys_file.gpg"
    gpg --batch --yes --quiet --encrypt --recipient "$BACKUP_KEYS_GPG_RECIPIENT" --output "$keys_file" "$plain_keys"
    rm -f "$plain_keys"
    log "keys → $keys_file (encrypted to $BACKUP_KEYS_GPG_RECIPIENT)"
else
    mv "$plain_keys" "$keys_file"
    chmod 600 "$keys_file"
    log "keys → $keys_file (mode 0600, NOT encrypted: move it to the place keys are kept, apart from the data)"
fi

# 4. The manifest: what the parts are, their digests and the fingerprints of the keys they need.
(cd "$work" && sha256sum database.dump files.tar >SHA256SUMS)
{
    echo "format=amparo-backup-1"
    echo "created_at=$dumped_at"
    echo "git_commit=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
    echo "database=$PGDATABASE"
    echo "database_sha256=$(sha256_of "$work/database.dump")"
    echo "files_sha256=$(sha256_of "$work/files.tar")"
    echo "files_store=$DESCRIBED_files_store"
    echo "files_count=$(tar --list --file="$work/files.tar" | grep -cv '/$' || true)"
    echo "keys_file=$(basename "$keys_file")"
    echo "keys_sha256=$(sha256_of "$keys_file")"
    echo "blind_index_key_fingerprint=$DESCRIBED_blind_index_key_fingerprint"
    echo "field_key_ids=$DESCRIBED_field_key_ids"
    echo "secret_key_fingerprint=$DESCRIBED_secret_key_fingerprint"
} >"$work/manifest"

mv "$work" "$backup_dir/$name"
trap - EXIT
log "done: $backup_dir/$name (keys: $keys_file)"
echo "$backup_dir/$name"
