"""The report of bench.dispatch: its two tables, the targets, and the last error a log holds."""

from __future__ import annotations

import json
from pathlib import Path

TARGET_BURST_SENT_RATE = 500.0
TARGET_PACED_P99_MS = 1000.0
NO_ERROR = "none logged"


def print_tables(results: list[dict], pg_source: str) -> None:
    header = (
        f"{'scenario':<9} {'offered':>7} {'rate/s':>6} {'conns':>5} {'202':>6} {'other':>5} {'offer s':>7} "
        f"{'accepted/s':>10} {'API p50':>7} {'API p99':>7} {'drain s':>7} {'sent/s':>7} "
        f"{'→sent p50':>9} {'→sent p99':>9} {'dup':>4} {'lost':>4} {'stuck':>5}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        rate = "max" if not r["rate"] else f"{r['rate']:.0f}"
        print(
            f"{r['name']:<9} {r['offered']:>7} {rate:>6} {r['connections']:>5} {r['accepted']:>6} "
            f"{sum(r['others'].values()):>5} {r['offer_seconds']:>7.1f} {r['accepted_rate']:>10.1f} "
            f"{r['api_p50']:>7.1f} {r['api_p99']:>7.1f} {r['drain']:>7.1f} {r['sent_rate']:>7.1f} "
            f"{r['p50']:>9.0f} {r['p99']:>9.0f} {r['dup']:>4} {r['lost']:>4} {r['stuck']:>5}"
        )
    print(f"\nPer accepted message ({pg_source}):")
    header = (
        f"{'scenario':<9} {'worker CPU ms':>13} {'sim CPU ms':>10} {'web CPU ms':>10} {'PG ms':>6} {'PG tx':>5} "
        f"{'worker RSS MB':>13} {'requeued':>8}  states; notes"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        notes = [f"{kind}: {n}" for kind, n in sorted(r["others"].items())]
        notes.append(f"{r['replays']} replays, {r['replays_elsewhere']} answered with another message")
        if r["unanswered_sent"]:
            notes.append(f"{r['unanswered_sent']} sent without a 202 seen")
        states = " ".join(f"{state}={n}" for state, n in sorted(r["states"].items()))
        print(
            f"{r['name']:<9} {r['worker_ms']:>13.1f} {r['sim_ms']:>10.1f} {r['web_ms']:>10.1f} {r['pg_ms']:>6.1f} "
            f"{r['tx']:>5.1f} {r['rss']:>13.0f} {r['requeued']:>8}  {states}; {'; '.join(notes)}"
        )


def last_error(log: Path) -> str:
    """The last line of the last exception the web server logged (its logs are JSON lines)."""
    last = NO_ERROR
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return last
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("level") == "ERROR":
            text = str(entry.get("exc") or entry.get("msg") or "").strip()
            last = text.splitlines()[-1] if text else last
    return last


def print_targets(results: list[dict], *, smoke: bool) -> None:
    rows = []
    for r in results:
        if r["name"] == "burst":
            rows.append(("burst: sent ≥ 500 msg/s", f"{r['sent_rate']:.1f}", r["sent_rate"] >= TARGET_BURST_SENT_RATE))
        if r["name"] == "paced100":
            rows.append(("paced100: p99 202→sent < 1 s", f"{r['p99']:.0f} ms", r["p99"] < TARGET_PACED_P99_MS))
    rows.append(("duplicates: 0", str(sum(r["dup"] for r in results)), not any(r["dup"] for r in results)))
    rows.append(
        (
            "lost: 0 (and none stuck)",
            str(sum(r["lost"] + r["stuck"] for r in results)),
            not any(r["lost"] + r["stuck"] for r in results),
        )
    )
    print("\nTargets (a smoke run is too small to judge speed):" if smoke else "\nTargets:")
    for target, measured, met in rows:
        print(f"  {target:<32} {measured:>10}  {'met' if met else 'NOT met'}")
