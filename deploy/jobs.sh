#!/bin/sh
# The jobs service (deploy/compose.yaml): the portal's scheduled jobs, every day at PORTAL_JOBS_AT (HH:MM, UTC).
#
#   1. `flask allocation run --once-per-day`: the region-wide allocation (README, "Scheduled job"). It runs once
#      across hosts: a PostgreSQL advisory lock lets one run at a time and --once-per-day makes a later one a no-op.
#   2. `flask retention prune`: deletes sign-in attempts, ended sessions, used form keys and old emails past their retention
#      (portal/retention.py; never the audit trail). Idempotent, so safe on every host.
#   3. `flask notifications remind`: queues the day's reminders (a vacancy about to go stale, a placement about to
#      start), each once only, so safe on every host and when run again (portal/notifications/reminders.py).
#   4. `flask market whatif-run --queued`: the what-if replays commissioners queued on their pages (each a dozen
#      allocations or more: too long for a web request); a run already done is not queued any more.
#   5. When PORTAL_BACKUP_DIR is set: `flask db backup` to PORTAL_BACKUP_DIR/portal-<UTC time>.backup, once a day,
#      deleting those older than PORTAL_BACKUP_KEEP_DAYS (default 14). Copy them off this host too
#      (docs/operations.md, "Backups and restore").
#
# At start it runs the jobs at once when today's have not run (a restart after PORTAL_JOBS_AT misses nothing: both
# jobs skip what is already done today), then sleeps until the next PORTAL_JOBS_AT. A failed job is logged and
# tried again the next day; the loop goes on.
set -eu

at="${PORTAL_JOBS_AT:-02:00}"
keep_days="${PORTAL_BACKUP_KEEP_DAYS:-14}"

log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) jobs: $*"; }

backup() {
  dir="$PORTAL_BACKUP_DIR"
  if ls "$dir"/portal-"$(date -u +%Y%m%d)"T*.backup >/dev/null 2>&1; then
    log "today's backup is already in $dir"
    return 0
  fi
  flask db backup "$dir/portal-$(date -u +%Y%m%dT%H%M%SZ).backup" || { log "the backup failed (exit $?)"; return 0; }
  find "$dir" -maxdepth 1 -type f -name 'portal-*.backup' -mtime +"$keep_days" -print -delete |
    while read -r old; do log "deleted $old (older than $keep_days days)"; done
}

run_jobs() {
  flask allocation run --once-per-day || log "the allocation failed (exit $?)"
  flask retention prune || log "pruning failed (exit $?)"
  flask notifications remind || log "the reminders failed (exit $?)"
  flask market whatif-run --queued || log "the queued what-if runs failed (exit $?)"
  if [ -n "${PORTAL_BACKUP_DIR:-}" ]; then backup; fi
}

seconds_until_next_run() {
  now="$(date -u +%s)"
  next="$(date -u -d "$at" +%s)"
  if [ "$next" -le "$now" ]; then next=$((next + 86400)); fi
  echo $((next - now))
}

log "daily jobs at $at UTC"
while :; do
  run_jobs
  wait_s="$(seconds_until_next_run)"
  log "next run in ${wait_s} s"
  sleep "$wait_s"
done
