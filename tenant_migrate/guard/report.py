"""The guard's figures as people read them: a markdown section (the gate, the Prefect artifact) and one line
(`tenant-migrate status`)."""

from __future__ import annotations

from typing import Any

from tenant_migrate.evidence import md_code, md_text
from tenant_migrate.guard.budgets import Budgets
from tenant_migrate.guard.sampler import human_bytes


def _wait_text(wait: dict[str, Any] | None) -> str:
    if not wait:
        return "none seen"
    return (f"{wait['wait_ms']:,.0f} ms: app pid {wait['pid']} {md_code(wait['statement'])}, behind "
            f"{md_text(wait['blocker'])} during {md_code(wait['step'])} (its statement then: "
            f"{md_code(wait['blocker_statement'])})")


def _standby_rows(f: dict[str, Any]) -> list[str]:
    rows = []
    for name, s in f["standbys"].items():
        rows.append(f"| standby {md_code(name)} | lag max {s['max_lag_s']:.2f} s (write {s['max_write_lag_s']:.2f}, "
                    f"flush {s['max_flush_lag_s']:.2f}, replay {s['max_replay_lag_s']:.2f} as PostgreSQL reports it); "
                    f"{human_bytes(s['max_behind_bytes'])} behind at most; at the end {s['last_lag_s']:.2f} s, "
                    f"{human_bytes(s['last_behind_bytes'])} |")
    return rows or ["| standbys | none streaming from this server |"]


def coverage(f: dict[str, Any]) -> str:
    if f["whole_phase"]:
        return (f"ran for the whole phase: {f['samples']:,} readings in {f['seconds']:.1f} s, longest gap "
                f"{f['longest_gap_s']:.2f} s")
    why = []
    if not f["visible"]:
        why.append("this role cannot see other sessions' queries or its replicas' positions "
                   "(GRANT pg_monitor TO the migration's role)")
    if f["longest_gap_s"] > max(2.0, 10 * f["budgets"]["interval_s"]):
        why.append(f"readings stopped for {f['longest_gap_s']:.1f} s ({f['sample_errors']} failed)")
    return "did **not** watch the whole phase: " + ("; ".join(why) or "it started after the phase did "
                                                     "(the phase was applied by an earlier run)")


def _pacing_text(latency: dict[str, Any] | None) -> str:
    if not latency:
        return "not read"
    if not latency["budget_ms"]:
        return "no pacing (budget 0)"
    if latency["note"]:
        return latency["note"]
    return f"at most {latency['max_added_ms']:,.0f} ms per call over {latency['readings']} readings (budget " \
           f"{latency['budget_ms']:g} ms)"


def markdown(f: dict[str, Any], title: str) -> str:
    """The figures of one phase: what the migration did to the app and its replicas, against the budgets."""
    budgets = Budgets(**f["budgets"])
    longest = f["longest_wait"]
    oldest = f["oldest_app_transaction"]
    cost = f["cost"]
    lines = [
        f"#### {title}",
        f"The guard {coverage(f)}. Budgets: {budgets.describe()}.",
        "",
        "| what | figure |",
        "|---|---|",
        f"| longest app wait on the migration | {_wait_text(longest)} |",
        f"| app waits seen / over budget / migration statements cancelled | {f['waits_seen']} / "
        f"{f['waits_over_budget']} / {len(f['cancels'])} |",
        *_standby_rows(f),
        "| WAL retained by replication slots | "
        + (", ".join(f"{md_code(k)} {human_bytes(v)} at most" for k, v in f["slots_retained_bytes"].items())
           or "no slots")
        + " |",
        f"| WAL written (whole server) | {human_bytes(f['wal_bytes'])} in {f['seconds']:.1f} s "
        f"({human_bytes(f['wal_bytes_per_s'])}/s) |",
        "| oldest app transaction | " + (f"{oldest['age_s']:.1f} s, pid {oldest['pid']} ({oldest['state']}) "
                                        f"{md_code(oldest['statement'])}" if oldest else "none open") + " |",
        f"| active app sessions | at most {f['active_sessions_max']}, {f['active_sessions_mean']:.1f} on average |",
        f"| app statements slower than usual (pacing) | {_pacing_text(f.get('app_latency'))} |",
        f"| paused for replica lag or the app's latency | {len(f['pauses'])} time(s), {f['paused_s']:.1f} s in all |",
        f"| the guard's own cost | {cost['queries_per_s']:.1f} queries/s, {cost['cpu_percent_of_a_core']:.2f}% of "
        "a core (client" + (" + server backend" if cost["server_cpu_s"] is not None else "") + ") |",
    ]
    if f["stopped"]:
        lines += ["", f"**Stopped the phase:** {md_text(f['stopped'])}"]
    if f["cancels"]:
        lines += ["", "Statements cancelled for the app (each retried later):"]
        lines += [f"- at {c['at_s']:.1f} s in {md_code(c['step'])}: {md_code(c['migration_statement'])} after app "
                  f"pid {c['app_pid']} waited {c['waited_ms']:,.0f} ms ({md_code(c['app_statement'])})"
                  for c in f["cancels"]]
    lines += ["", "| step | seconds | WAL | longest app wait | max lag (at a go) | paused |",
              "|---|---|---|---|---|---|"]
    for s in f["steps"]:
        at_go = f" ({s['max_lag_go_s']:.2f} s)" if s["max_lag_go_s"] is not None else ""
        lines.append(f"| `{s['step']}` | {s['seconds']:.1f} | {human_bytes(s['wal_bytes'])} | "
                     f"{s['longest_wait_ms']:,.0f} ms | {s['max_lag_s']:.2f} s{at_go} | "
                     f"{s['pauses']} ({s['paused_s']:.1f} s) |")
    return "\n".join(lines)


def one_line(f: dict[str, Any]) -> str:
    """The figures in one line, for `tenant-migrate status`."""
    longest = f["longest_wait"]
    lag = max((s["max_lag_s"] for s in f["standbys"].values()), default=None)
    behind = max((s["max_behind_bytes"] for s in f["standbys"].values()), default=0)
    parts = [
        "watched the whole phase" if f["whole_phase"] else "not the whole phase",
        f"longest app wait {longest['wait_ms']:,.0f} ms in {longest['step']}" if longest else "no app waits",
        f"{len(f['cancels'])} cancelled",
        f"replica lag max {lag:.1f} s / {human_bytes(behind)}" if lag is not None else "no standby",
        f"WAL {human_bytes(f['wal_bytes'])} ({human_bytes(f['wal_bytes_per_s'])}/s)",
        f"paused {f['paused_s']:.1f} s",
    ]
    if f["stopped"]:
        parts.append(f"STOPPED: {f['stopped']}")
    return "guard: " + ", ".join(parts)
