"""`make bench-ai`: the built-in AI provider (inbox.ai.knowledge_provider), offline, no database.

1. The held-out evaluation: samples/ai/evaluation.csv (267 customer messages: answerable,
   out of scope, blocked) against the sample knowledge base, at each threshold: answer rate and
   correct rate over the answerable rows, out-of-scope rows declined, blocked rows handed over to
   the expected intent, and answerable rows wrongly handed over. A blocked intent is looked for
   before the provider is asked, as the guardrails do.
2. Leave-one-out over the sample knowledge base's own phrasings: what the settings page shows a
   workspace to choose its threshold from.
3. Latency: a knowledge base of 5,000 pairs (the sample pairs and product/city variants of them),
   the index build once, then the provider's answer() per message, p50/p95/p99.

    python -m bench.ai [--pairs 5000] [--queries 2000] [--smoke]

Targets (exit status 1 when one fails): at the recommended threshold, correct ≥ 85 % of answered,
out-of-scope answered ≤ 10 %, false hand-overs ≤ 3 rows; p95 < 20 ms with 5,000 pairs (not
enforced by --smoke, whose sizes say nothing about speed).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from bench.smoke import add_smoke_flag, apply_smoke
from bench.stack import percentile
from inbox.ai.evaluation import EvaluationResult, evaluate, leave_one_out
from inbox.ai.knowledge_provider import RECOMMENDED_THRESHOLD, KnowledgeProvider
from inbox.ai.samples import sample_pairs, sample_rows
from inbox.ai.types import Context, KnowledgePair

THRESHOLDS = (0.35, RECOMMENDED_THRESHOLD, 0.7, 0.85)
TARGET_CORRECT_RATE = 0.85
TARGET_OUT_OF_SCOPE_ANSWERED = 0.10
TARGET_FALSE_HAND_OVERS = 3
TARGET_P95_MS = 20.0

PRODUCTS = (
    "kurta", "saree", "lehenga", "dupatta", "sherwani", "blouse", "kurta set", "anarkali", "palazzo set",
    "frock", "Nehru jacket", "stole", "potli bag", "jhumka set", "co-ord set", "salwar suit", "dhoti kurta",
)  # fmt: skip
CITIES = (
    "Mumbai", "Delhi", "Pune", "Chennai", "Kolkata", "Hyderabad", "Ahmedabad", "Lucknow", "Indore", "Surat",
    "Kochi", "Guwahati", "Nagpur", "Bhopal", "Patna", "Jaipur", "Bengaluru", "Chandigarh", "Mysuru",
)  # fmt: skip


def catalogue_pairs(base: Sequence[KnowledgePair], count: int) -> list[KnowledgePair]:
    """`count` pairs: the base pairs, then variants of them for a product, a city or both, the
    way a large shop's FAQ repeats its policies per category and region."""
    pairs = list(base)
    for number in range(count - len(base)):
        pair = base[number % len(base)]
        round_ = number // len(base)
        product, city = PRODUCTS[round_ % len(PRODUCTS)], CITIES[(round_ * 7 + number) % len(CITIES)]
        question = pair.question.rstrip("?")
        variant = (f"for a {product}", f"in {city}", f"for a {product} in {city}")[round_ % 3]
        pairs.append(
            KnowledgePair(
                key=f"gen-{number:05d}",
                question=f"{question} {variant}?",
                answer=f"{pair.answer} This also applies to {product} orders delivered to {city}.",
                language=pair.language,
                alternates=tuple(f"{alternate} ({product}, {city})" for alternate in pair.alternates),
            )
        )
    return pairs


def print_evaluation(results: Sequence[EvaluationResult]) -> None:
    first = results[0]
    print(
        f"Evaluation: samples/ai/evaluation.csv, {first.answerable} answerable, {first.out_of_scope} out of scope, "
        f"{first.blocked} blocked rows; the sample knowledge base"
    )
    header = (
        f"{'threshold':>9} {'answered':>14} {'correct':>14} {'out-of-scope declined':>22} "
        f"{'blocked handed over':>20} {'blocked answered':>16} {'false hand-overs':>16}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        mark = "*" if r.threshold == RECOMMENDED_THRESHOLD else " "
        declined = r.out_of_scope - r.out_of_scope_answered
        print(
            f"{r.threshold:>8.2f}{mark} {_count(r.answered, r.answerable):>14} {_count(r.correct, r.answered):>14} "
            f"{_count(declined, r.out_of_scope):>22} {_count(r.blocked_routed, r.blocked):>20} "
            f"{r.blocked_answered:>16} {r.false_hand_overs:>16}"
        )
    print(
        f"* recommended default. 'correct' is of the answered; 'blocked handed over' counts the expected intent "
        f"({first.blocked_handed_over} of {first.blocked} were handed over at all)."
    )


def print_leave_one_out(pairs: Sequence[KnowledgePair], thresholds: Sequence[float]) -> None:
    report = leave_one_out(pairs, thresholds)
    sampled = f", {report.pairs_asked} of them asked" if report.is_sampled else ""
    print(f"\nLeave-one-out: every phrasing of the sample knowledge base's {report.pairs} pairs{sampled}")
    header = f"{'threshold':>9} {'asked':>6} {'answered':>14} {'correct':>14} {'handed over':>12}"
    print(header)
    print("-" * len(header))
    for r in report.results:
        print(
            f"{r.threshold:>9.2f} {r.asked:>6} {_count(r.answered, r.asked):>14} {_count(r.correct, r.answered):>14} "
            f"{_count(r.handed_over, r.asked):>12}"
        )


def measure_latency(base: Sequence[KnowledgePair], questions: Sequence[str], *, pairs: int, queries: int) -> dict:
    """The index build (the provider's first answer) and then each answer's time in ms."""
    knowledge = tuple(catalogue_pairs(base, pairs))
    provider = KnowledgeProvider()

    def context(question: str) -> Context:
        return Context(question=question, knowledge=knowledge, tenant_id=1, knowledge_version=1)

    started = time.perf_counter()
    provider.answer(context(questions[0]))
    build_seconds = time.perf_counter() - started
    asked = [questions[number % len(questions)] for number in range(queries)]
    for question in asked[:20]:  # warm-up: first calls pay for imports and caches
        provider.answer(context(question))
    timings = []
    for question in asked:
        started = time.perf_counter()
        provider.answer(context(question))
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "pairs": len(knowledge),
        "phrasings": sum(1 + len(pair.alternates) for pair in knowledge),
        "build_seconds": build_seconds,
        "queries": len(timings),
        "p50": percentile(timings, 0.50),
        "p95": percentile(timings, 0.95),
        "p99": percentile(timings, 0.99),
        "max": max(timings),
        "index_cache_misses": provider.cache.misses,
    }


def print_latency(latency: dict) -> None:
    print(
        f"\nLatency: KnowledgeProvider.answer() with {latency['pairs']:,} pairs ({latency['phrasings']:,} phrasings), "
        f"index cached after the first answer"
    )
    header = f"{'index build s':>13} {'queries':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}"
    print(header)
    print("-" * len(header))
    print(
        f"{latency['build_seconds']:>13.2f} {latency['queries']:>8} {latency['p50']:>7.2f} {latency['p95']:>7.2f} "
        f"{latency['p99']:>7.2f} {latency['max']:>7.2f}"
    )


def check_targets(recommended: EvaluationResult, latency: dict, *, smoke: bool) -> bool:
    out_of_scope_answered = recommended.out_of_scope_answered / max(recommended.out_of_scope, 1)
    checks = [
        (f"correct ≥ {TARGET_CORRECT_RATE:.0%} of answered", f"{recommended.correct_rate:.1%}",
         recommended.correct_rate >= TARGET_CORRECT_RATE),
        (f"out of scope answered ≤ {TARGET_OUT_OF_SCOPE_ANSWERED:.0%}", f"{out_of_scope_answered:.1%}",
         out_of_scope_answered <= TARGET_OUT_OF_SCOPE_ANSWERED),
        (f"false hand-overs ≤ {TARGET_FALSE_HAND_OVERS}", str(recommended.false_hand_overs),
         recommended.false_hand_overs <= TARGET_FALSE_HAND_OVERS),
        ("index built once", f"{latency['index_cache_misses']} build(s)", latency["index_cache_misses"] == 1),
    ]  # fmt: skip
    if not smoke:
        checks.append((f"p95 < {TARGET_P95_MS:.0f} ms", f"{latency['p95']:.2f} ms", latency["p95"] < TARGET_P95_MS))
    print(f"\nTargets (threshold {RECOMMENDED_THRESHOLD}{'; smoke: speed not checked' if smoke else ''}):")
    for name, value, passed in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {name}: {value}")
    return all(passed for _, _, passed in checks)


def _count(part: int, whole: int) -> str:
    return f"{part}/{whole} {part / whole if whole else 0:4.0%}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=5000, help="knowledge base size for the latency run")
    parser.add_argument("--queries", type=int, default=2000, help="answers timed")
    add_smoke_flag(parser)
    args = parser.parse_args(argv)
    apply_smoke(args, parser, pairs=500, queries=100)

    pairs, rows = sample_pairs(), sample_rows()
    results = evaluate(pairs, rows, THRESHOLDS)
    print_evaluation(results)
    print_leave_one_out(pairs, THRESHOLDS)
    latency = measure_latency(pairs, [row.question for row in rows], pairs=args.pairs, queries=args.queries)
    print_latency(latency)
    recommended = next(r for r in results if r.threshold == RECOMMENDED_THRESHOLD)
    return 0 if check_targets(recommended, latency, smoke=args.smoke) else 1


if __name__ == "__main__":
    sys.exit(main())
