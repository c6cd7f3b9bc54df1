#!/usr/bin/env bash
# Restore an Amparo backup (scripts/backup.sh) into a FRESH database and a fresh files folder.
#
#   scripts/restore.sh [--new-index-key] BACKUP [KEYS_FILE]
#
# BACKUP is a folder backup.sh made (amparo-<time>/). The target is the application's environment:
# DATABASE_URL names an existing, empty database (`createdb -O amparo_owner amparo_restored`), and
# PRIVATE_MEDIA_ROOT a folder that is empty or does not exist yet. The keys are those of the backup:
# either already in the environment (SECRET_KEY, FIELD_ENCRYPTION_KEYS, BLIND_INDEX_KEY, or NAME_FILE),
# or given as KEYS_FILE (the .keys file backup.sh wrote, or its .keys.gpg, decrypted with gpg).
#
# Steps, each of which stops the restore on failure:
#   1. the parts match the digests of the manifest (sha256sum -c);
#   2. the keys of this environment are the backup's: the blind-index key's fingerprint is the same,
#      and every field key the backup used is configured. Otherwise it refuses (exit 2) before it
#      touches anything: under another BLIND_INDEX_KEY search and duplicate detection would silently
#      match nobody, and under other field keys nothing could be read;
#   3. the database is empty and the files folder is empty (exit 2 otherwise: never over live data);
#   4. pg_restore (without owners and grants: run scripts/db-roles.sql afterwards, as after migrate);
#   5. the files are unpacked (with PRIVATE_STORAGE=s3 they stay in the bucket, which its versioning
#      keeps: a backup made from a bucket has no files in its archive; one made from a folder is refused
#      until its files are copied into the bucket);
#   6. `manage.py migrate --check` (exit 3 if this code expects migrations the backup lacks: run
#      `manage.py migrate`, then `manage.py verify_restore`);
#   7. `manage.py verify_restore`: every encrypted value and every file is read, the keys are checked
#      against the stored fingerprint (exit 4 on any failure).
# --new-index-key: the backup's BLIND_INDEX_KEY is lost or is being replaced on purpose. The one of the
# environment is used (never the keys file's), step 2 does not compare it, and after step 6 every
# index is recomputed under it (`manage.py reindex_identities`) before the verification.
# A different SECRET_KEY only warns: it signs sessions, password-reset links and form stamps, so
# everyone signs in again; nothing stored is encrypted with it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
[[ -x "$PYTHON" ]] || PYTHON=python3
KEY_NAMES=(SECRET_KEY SECRET_KEY_FALLBACKS FIELD_ENCRYPTION_KEYS BLIND_INDEX_KEY)

log() { printf 'restore: %s\n' "$*" >&2; }
die() { local code=$1; shift; log "error: $*"; exit "$code"; }

new_index_key=0
if [[ "${1:-}" == "--new-index-key" ]]; then
    new_index_key=1
    shift
fi
[[ $# -ge 1 && $# -le 2 ]] || die 1 "usage: scripts/restore.sh [--new-index-key] BACKUP [KEYS_FILE]"
backup=$(cd "$1" && pwd) || die 1 "no backup folder $1"
[[ -f "$backup/manifest" && -f "$backup/SHA256SUMS" ]] || die 1 "$backup is not a backup made by scripts/backup.sh"
command -v pg_restore >/dev/null || die 1 "pg_restore not found (apt-get install postgresql-client)"

manifest() { sed -n "s/^$1=//p" "$backup/manifest" | head -n 1; }

# 1. The parts are whole.
(cd "$backup" && sha256sum --check --quiet SHA256SUMS) || die 1 "the backup's parts do not match its manifest"
log "parts match the manifest ($(manifest created_at))"

# The keys, from KEYS_FILE if given: NAME=value lines, read as data (never run as shell).
if [[ $# -eq 2 ]]; then
    keys_file=$2
    [[ -r "$keys_file" ]] || die 1 "cannot read $keys_file"
    if [[ "$keys_file" == *.gpg ]]; then
        keys_text=$(gpg --batch --quiet --decrypt "$keys_file") || die 1 "could not decrypt $keys_file"
    else
        keys_text=$(cat "$keys_file")
    fi
    while IFS= read -r line; do
        name=${line%%=*}
        for known in "${KEY_NAMES[@]}"; do
            if [[ "$name" == "$known" && ! ( "$name" == BLIND_INDEX_KEY && $new_index_key == 1 ) ]]; then
                unset "${name}_FILE"
                export "$name=${line#*=}"
            fi
        done
    done <<<"$keys_text"
    unset keys_text
fi

# 2. The keys fit the backup. backup.sh --describe also gives the target's connection (PG*).
while IFS='=' read -r name value; do
    case "$name" in
        PG*) if [[ -n "$value" ]]; then export "$name=$value"; else unset "$name"; fi ;;
        blind_index_key_fingerprint) env_blind=$value ;;
        field_key_ids) env_field_ids=$value ;;
        secret_key_fingerprint) env_secret=$value ;;
        files_dir) files_dir=$value ;;
        files_store) files_store=$value ;;
    esac
done < <("$ROOT/scripts/backup.sh" --describe)
[[ -n "${env_blind:-}" && ( -n "${files_dir:-}" || "${files_store:-}" == s3://* ) ]] \
    || die 1 "could not read the application's settings"
in_bucket=0
if [[ "${files_store:-filesystem}" != filesystem ]]; then
    in_bucket=1
    files_count=$(manifest files_count)
    [[ "${files_count:-0}" == 0 ]] || die 2 "this backup holds $files_count files in files.tar, but this environment" \
        "keeps its files in $files_store: copy them into the bucket first (they are sealed, the same bytes in a" \
        "folder or a bucket: unpack files.tar and upload it under the prefix), then run this with PRIVATE_STORAGE=s3"
fi

wanted_blind=$(manifest blind_index_key_fingerprint)
if [[ $new_index_key == 1 ]]; then
    log "warning: --new-index-key: every index will be recomputed under the key of this environment ($env_blind," \
        "the backup's is $wanted_blind)"
elif [[ "$env_blind" != "$wanted_blind" ]]; then
    die 2 "BLIND_INDEX_KEY of this environment (fingerprint $env_blind) is not the key of this backup" \
        "(fingerprint $wanted_blind): duplicate detection and search would silently match nobody. Configure" \
        "the keys kept with this backup ($(manifest keys_file)). To change the key on purpose, restore with the" \
        "backup's key, then set the new one and run \`manage.py reindex_identities\`; or restore with" \
        "--new-index-key, which does that."
fi
IFS=',' read -r -a wanted_ids <<<"$(manifest field_key_ids)"
for id in "${wanted_ids[@]}"; do
    [[ ",$env_field_ids," == *",$id,"* ]] || die 2 "FIELD_ENCRYPTION_KEYS of this environment ($env_field_ids)" \
        "lack key $id of this backup: its data could not be decrypted. Configure the keys kept with this" \
        "backup ($(manifest keys_file))."
done
if [[ "$env_secret" != "$(manifest secret_key_fingerprint)" ]]; then
    log "warning: SECRET_KEY differs from the backup's: sessions and password-reset links made before are invalid"
fi
log "keys fit the backup (blind-index key $env_blind, field keys $env_field_ids)"

# 3. Only into a fresh database and an empty files folder.
tables=$(psql -X --no-password --tuples-only --no-align \
    -c "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'") \
    || die 1 "cannot connect to the target database $PGDATABASE (create it first: createdb $PGDATABASE)"
[[ "$tables" == "0" ]] || die 2 "the target database $PGDATABASE is not empty ($tables tables): restore into a new one"
if [[ $in_bucket == 0 && -d "$files_dir" ]] && [[ -n "$(ls -A "$files_dir")" ]]; then
    die 2 "the files folder $files_dir is not empty: restore into a new one"
fi

# 4. The database.
log "database → $PGDATABASE"
pg_restore --no-password --exit-on-error --no-owner --no-acl --dbname="$PGDATABASE" "$backup/database.dump"

# 5. The files (sealed as they were: they are decrypted only by the application, with the keys).
if [[ $in_bucket == 1 ]]; then
    log "files: kept in $files_store (restore the bucket's versions of the backup's time if needed; verify_restore reads them)"
else
    log "files → $files_dir"
    mkdir -p "$files_dir"
    chmod 700 "$files_dir"
    tar --extract --file="$backup/files.tar" --directory="$files_dir" --no-same-owner
fi

# 6. The schema is the one this code expects.
if ! "$PYTHON" "$ROOT/manage.py" migrate --check >/dev/null; then
    die 3 "the restored database lacks migrations this code has: run \`manage.py migrate\`, then \`manage.py verify_restore\`"
fi

# 6b. A new index key: every index recomputed under it, its fingerprint recorded.
if [[ $new_index_key == 1 ]]; then
    "$PYTHON" "$ROOT/manage.py" reindex_identities || die 4 "re-indexing under the new BLIND_INDEX_KEY failed"
fi

# 7. Everything reads back.
"$PYTHON" "$ROOT/manage.py" verify_restore || die 4 "the restored data could not all be read (see above)"
log "done: $(manifest database) of $(manifest created_at) restored into $PGDATABASE and ${files_dir:-$files_store}; run scripts/db-roles.sql next"
