"""The report of bench.webhooks: one row per stage, the targets, and what fails the run."""

from __future__ import annotations

from bench.webhooks.stages import Stage

TARGET_STATUS_RATE = 3300.0
TARGET_INBOUND_RATE = 1000.0
TARGET_DRAIN_SECONDS, TARGET_BURST_SECONDS = 10.0, 60.0
TARGET_ACK_RATE, TARGET_ACK_P99_MS = 1000.0, 50.0
TARGET_ANSWERED_RATE, ANSWERED_TOLERANCE = 2000.0, 0.01

HEADER = (
    f"{'mode':<9} {'offered/s':>9} {'answered/s':>10} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>8} {'errors':>6} "
    f"{'updates':>8} {'offered upd/s':>13} {'processed/s':>11} {'drain s':>7} {'lost':>5} {'dup':>4}  notes"
)


def print_row(r: dict) -> None:
    stage = r["stage"]
    notes = [f"{kind}: {count}" for kind, count in sorted(r["errors"].items())]
    if r["dead"]:
        notes.append(f"dead: {r['dead']}")
    if r["retried"]:
        notes.append(f"{r['retried']} events took more than one attempt")
    if r["late"]:
        notes.append(f"{r['late']} finished > 5 s after they were stored")
    if r["earlier"]:
        notes.append(f"started with {r['earlier']} events of earlier stages open")
    if r["open"]:
        notes.append(f"{r['open']} events still open at the drain timeout (their updates count as lost)")
    if stage.kind == "status":
        notes.append(f"billed {r['billed']}/{r['delivered']} delivered")
        if r["lost"]:
            notes.append(f"{r['missing']} not recorded, {r['behind']} messages behind")
    print(
        f"{stage.mode:<9} {stage.rate:>9.0f} {r['answered']:>10.0f} {r['p50']:>7.1f} {r['p95']:>7.1f} "
        f"{r['p99']:>8.1f} {sum(r['errors'].values()):>6} {stage.updates:>8} {stage.rate * stage.per_post:>13.0f} "
        f"{r['processed']:>11.0f} {r['drain']:>7.1f} {r['lost']:>5} {r['duplicated']:>4}  {', '.join(notes)}",
        flush=True,
    )


def processing_target(stage: Stage) -> float:
    return TARGET_STATUS_RATE if stage.kind == "status" else TARGET_INBOUND_RATE


def answered_in_full(r: dict) -> bool:
    return r["answered"] >= TARGET_ANSWERED_RATE * (1 - ANSWERED_TOLERANCE) and not r["errors"]


def judged(label: str, rows: list[dict], pick, shown: str, passes) -> tuple[str, str, bool]:
    """(label, the picked row's value and stage, whether it passes); "not run" without a row."""
    if not rows:
        return label, "not run", False
    row = pick(rows)
    return label, f"{shown.format(**row)} ({row['stage'].mode} {row['stage'].rate:.0f}/s)", passes(row)


def target_rows(results: list[dict], duration: float) -> list[tuple[str, str, bool]]:
    """The issue's targets: the best rate a stage reached, the worst latency, drain and answer rate."""
    status = [r for r in results if r["stage"].kind == "status"]
    inbound = [r for r in results if r["stage"].kind == "inbound"]
    within = [r for r in results if r["stage"].rate * r["stage"].per_post <= processing_target(r["stage"])]
    at_ack = [r for r in results if r["stage"].rate == TARGET_ACK_RATE]
    at_top = [r for r in results if r["stage"].rate == TARGET_ANSWERED_RATE]
    # Shorter stages are named as such: their drain is not the 60 s burst's.
    burst = f"{duration:g} s" + (" burst" if duration >= TARGET_BURST_SECONDS else " stage (target: 60 s)")
    lost, duplicated = sum(r["lost"] for r in results), sum(r["duplicated"] for r in results)
    return [
        judged(
            "status updates processed ≥ 3,300/s",
            status,
            lambda rows: max(rows, key=lambda r: r["processed"]),
            "{processed:.0f}/s",
            lambda r: r["processed"] >= TARGET_STATUS_RATE,
        ),
        judged(
            "inbound messages processed ≥ 1,000/s",
            inbound,
            lambda rows: max(rows, key=lambda r: r["processed"]),
            "{processed:.0f}/s",
            lambda r: r["processed"] >= TARGET_INBOUND_RATE,
        ),
        judged(
            f"backlog drained ≤ 10 s after a {burst}",
            within,
            lambda rows: max(rows, key=lambda r: r["drain"]),
            "{drain:.1f} s",
            lambda r: r["drain"] <= TARGET_DRAIN_SECONDS,
        ),
        judged(
            "ACK p99 < 50 ms at 1,000 req/s",
            at_ack,
            lambda rows: max(rows, key=lambda r: r["p99"]),
            "{p99:.1f} ms",
            lambda r: r["p99"] < TARGET_ACK_P99_MS,
        ),
        judged(
            "≥ 2,000 req/s answered, 0 errors",
            at_top,
            lambda rows: min(rows, key=lambda r: (answered_in_full(r), r["answered"])),
            "{answered:.0f}/s",
            answered_in_full,
        ),
        ("0 lost, 0 duplicated in every row", f"{lost} lost, {duplicated} dup", not lost and not duplicated),
    ]


def print_targets(results: list[dict], *, duration: float, smoke: bool) -> None:
    print("\nTargets (a smoke run is too small to judge speed):" if smoke else "\nTargets:")
    for label, value, met in target_rows(results, duration):
        print(f"  {label:<48} {value:>32}  {'met' if met else 'NOT met'}")
    print(
        "  (the ≥ 2,000 row allows 1 % for the last answer landing after the schedule ends; the drain row "
        "takes the stages offered no more than the processing targets)"
    )


def problems_of(results: list[dict], *, smoke: bool) -> list[str]:
    problems = []
    for r in results:
        name = f"{r['stage'].mode} {r['stage'].rate:.0f}/s"
        if r["lost"] or r["duplicated"] or r["dead"] or r["drain"] == float("inf"):
            problems.append(
                f"{name}: {r['lost']} lost, {r['duplicated']} duplicated, {r['dead']} dead, drain {r['drain']:.1f} s"
            )
        if smoke and r["errors"]:
            problems.append(f"{name}: {sum(r['errors'].values())} errors at a rate any machine answers")
    return problems
