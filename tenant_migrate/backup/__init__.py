"""Verified backups before every phase, and the emergency restore.

A backup is a folder `<backup_dir>/<timestamp>-<db>-<label>/` holding the pg_dump archive (custom
format `dump.pgdump` with one job, directory format `dump/` with several) and `manifest.json`:
phase, database (no password), server and pg_dump versions, timings, the sha256 and size of every
file, the row counts of the legacy tables and the ledger state, both read in the very snapshot the
dump was taken from (`pg_export_snapshot` + `pg_dump --snapshot`), so that a restore of the
archive has exactly the manifest's row counts even while the application keeps writing.

A backup is written under a hidden `.<name>.partial` folder and renamed when complete: a folder
without a leading dot and with a manifest is a finished backup. Verification results go to a
sidecar `verified.json` (the manifest itself is never rewritten).

Modules: `tools` finds pg_dump and its siblings; `dump` checks, dumps and verifies; `restore` restores
(in place, into a new database, or into a scratch database to prove a backup restores); `store` knows
the folders (listing, manifests, pruning). Passwords never reach a command line, a log or an error
message: the tools get the connection string without the password and the password through PGPASSWORD.
"""
