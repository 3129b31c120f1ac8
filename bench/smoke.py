"""`--smoke`: every benchmark's own code path at a size that takes seconds, for CI.

A smoke run proves the benchmark still starts, drives the real stack and finds nothing lost or
duplicated; it does not measure (targets on rates need the full size: short runs are all ramp-up).
"""

from __future__ import annotations

import argparse

HELP = "seconds, not minutes: the same code path at a tiny size; checks correctness, not speed targets"


def add_smoke_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--smoke", action="store_true", help=HELP)


def apply_smoke(args: argparse.Namespace, parser: argparse.ArgumentParser, **sizes: object) -> None:
    """With --smoke, the given sizes replace the options the caller left at their defaults."""
    if not args.smoke:
        return
    for name, value in sizes.items():
        if getattr(args, name) == parser.get_default(name):
            setattr(args, name, value)
