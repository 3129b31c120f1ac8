"""Fits the built-in provider's confidence (inbox/ai/ranking.py COEFFICIENTS and INTERCEPT) on the
sample knowledge base, offline; never on samples/ai/evaluation.csv, the held-out test set.

    python -m bench.ai_calibrate            # fit, print the constants to paste and a reliability table
    python -m bench.ai_calibrate --ranking  # compare ranking weights by leave-one-out top-1 accuracy

The examples are the knowledge base's own phrasings (questions and alternates): each asked with
itself left out of the base (label 1 when the best pair is its own, else 0), and each asked with
its whole pair left out (label 0: a question the base cannot answer, which the confidence must keep
low). Phrasings naming a blocked intent are skipped: the provider is never asked those.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from inbox.ai import ranking
from inbox.ai.evaluation import held_out_phrasings
from inbox.ai.samples import sample_pairs
from inbox.ai.types import KnowledgePair

# Inverse regularisation strength; the features are all in [0, 1].
REGULARISATION_C = 1.0


def calibration_examples(pairs: Sequence[KnowledgePair]) -> tuple[np.ndarray, np.ndarray]:
    """(features of the best match, whether it answers the question) for every example."""
    features, labels = [], []
    for whole_pair in (False, True):
        for held_out in held_out_phrasings(pairs, whole_pair=whole_pair):
            if held_out.intent or held_out.top is None:
                continue
            features.append(held_out.top.features.vector())
            labels.append(0 if whole_pair else int(held_out.top.pair.key == held_out.key))
    return np.asarray(features), np.asarray(labels)


def fit(features: np.ndarray, labels: np.ndarray) -> LogisticRegression:
    return LogisticRegression(C=REGULARISATION_C, max_iter=1000).fit(features, labels)


def print_reliability(probabilities: np.ndarray, labels: np.ndarray) -> None:
    """Predicted against observed, in bins of predicted probability."""
    print(f"{'predicted':>12} {'examples':>9} {'observed':>9}")
    edges = [0.0, 0.1, 0.3, 0.5, 0.7, 0.85, 0.95, 1.0001]
    for low, high in itertools.pairwise(edges):
        chosen = (probabilities >= low) & (probabilities < high)
        if chosen.any():
            print(f"{low:5.2f}–{min(high, 1):4.2f} {int(chosen.sum()):9d} {labels[chosen].mean():9.2f}")


def calibrate() -> None:
    pairs = sample_pairs()
    features, labels = calibration_examples(pairs)
    print(f"{len(labels)} examples from {len(pairs)} pairs, {labels.mean():.0%} positive")
    # out-of-fold probabilities: how well calibrated the fitted model is on examples it did not see
    held_out = cross_val_predict(
        LogisticRegression(C=REGULARISATION_C, max_iter=1000),
        features,
        labels,
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        method="predict_proba",
    )[:, 1]
    print(f"5-fold log loss {log_loss(labels, held_out):.3f} (always the base rate: "
          f"{log_loss(labels, np.full(len(labels), labels.mean())):.3f})")  # fmt: skip
    print_reliability(held_out, labels)
    model = fit(features, labels)
    names = ("word", "char", "answer", "fuzzy", "margin", "coverage")
    print("\nPaste into inbox/ai/ranking.py:")
    print(
        "COEFFICIENTS = ("
        + ", ".join(f"{value:.3f}" for value in model.coef_[0])
        + f")  # {', '.join(names)}\nINTERCEPT = {model.intercept_[0]:.3f}"
    )


def compare_rankings() -> None:
    """For a grid of ranking weights (the current ones marked *): leave-one-out top-1 accuracy,
    and how many phrasings asked as they are written fail to find their own pair (must be 0)."""
    pairs = sample_pairs()
    current = (ranking.CHAR_NGRAMS, ranking.WORD_WEIGHT, ranking.ANSWER_WEIGHT, ranking.FUZZY_WEIGHT)
    results = []
    grid = itertools.product([(2, 4), (3, 5)], [0.3, 0.5, 0.7], [0.3, 0.6, 0.9], [0.0, 0.15, 0.3])
    try:
        for setting in grid:
            ranking.CHAR_NGRAMS, ranking.WORD_WEIGHT, ranking.ANSWER_WEIGHT, ranking.FUZZY_WEIGHT = setting
            asked = list(held_out_phrasings(pairs))
            top1 = sum(1 for h in asked if h.top is not None and h.top.pair.key == h.key) / len(asked)
            results.append((top1, -_own_pair_missed(pairs), setting))
    finally:
        ranking.CHAR_NGRAMS, ranking.WORD_WEIGHT, ranking.ANSWER_WEIGHT, ranking.FUZZY_WEIGHT = current
    print(f"{'top-1':>6}  {'as-is missed':>12}  char n-grams  word weight  answer weight  fuzzy weight")
    for top1, missed, setting in sorted(results, reverse=True):
        mark = "*" if setting == current else " "
        ngrams, word, answer, fuzzy = setting
        print(f"{top1:6.1%}{mark} {-missed:>12} {str(ngrams):>13} {word:12.2f} {answer:14.2f} {fuzzy:13.2f}")


def _own_pair_missed(pairs: Sequence[KnowledgePair]) -> int:
    index = ranking.KnowledgeIndex(pairs)
    return sum(
        1
        for pair in pairs
        for text in (pair.question, *pair.alternates)
        if index.search(text, language=pair.language, limit=1)[0].pair.key != pair.key
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ranking", action="store_true", help="compare ranking weights instead of fitting")
    arguments = parser.parse_args(argv)
    if arguments.ranking:
        compare_rankings()
    else:
        calibrate()


if __name__ == "__main__":
    main()
