"""Where a campaign's time goes: --profile (the batches in this process under cProfile) and
--py-spy (one worker sampled)."""

from __future__ import annotations

import time
from pathlib import Path

from bench.campaigns.workspace import launch


def profile_in_process(tenant, user, campaign, count: int) -> None:
    """--profile: the batches run here under cProfile (no workers); prints where the time goes."""
    import cProfile
    import pstats

    from aerostic.core.tenant_context import tenant_context
    from campaigns import engine

    launch(tenant, user, campaign)
    from aerostic.core import queues

    queues.get_queue(queues.CAMPAIGNS).empty()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    with tenant_context(tenant):
        batches = engine.batches_of(campaign)
        profiler.enable()
        for batch in batches:
            engine.send_batch(campaign.pk, batch)
        profiler.disable()
    seconds = time.perf_counter() - started
    print(f"{count} recipients in one process: {seconds:.1f} s, {count / seconds:.0f} msg/s")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(35)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    for name in ("outbound_store_many", "claim", "judge", "record$"):
        pstats.Stats(profiler).sort_stats("cumulative").print_callees(name)
    raise SystemExit(0)


def print_hot_spots(raw: Path, top: int = 60) -> None:
    """--py-spy: where one worker's CPU went (on-CPU samples of all its threads), by function:
    self samples (the function itself) and total (with what it called)."""
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = [frame.split(" (")[0] + " " + frame.rsplit("/", 1)[-1].rstrip(")") for frame in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + n
    print(f"\npy-spy: {samples} on-CPU samples of one worker")
    for title, table in (("self", own), ("total", total)):
        print(f"-- by {title}")
        for frame, n in sorted(table.items(), key=lambda item: -item[1])[:top]:
            print(f"{100 * n / max(1, samples):5.1f}%  {frame}")
