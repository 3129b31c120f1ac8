"""The bundled sample business (samples/ai/): its knowledge base as pairs and its labelled
evaluation messages, for the benchmark, the calibration script and the tests."""

from __future__ import annotations

import csv
from pathlib import Path

from inbox.ai.evaluation import EvaluationRow
from inbox.ai.types import KnowledgePair

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "samples" / "ai"
ALTERNATES_SEPARATOR = " | "


def sample_pairs(path: Path | str | None = None) -> list[KnowledgePair]:
    """The pairs of knowledge_base.csv (id, language, question, alternates, answer, tags)."""
    with open(path or SAMPLES_DIR / "knowledge_base.csv", encoding="utf-8", newline="") as file:
        return [
            KnowledgePair(
                key=row["id"],
                question=row["question"],
                answer=row["answer"],
                language=row["language"],
                alternates=tuple(
                    phrasing.strip()
                    for phrasing in (row.get("alternates") or "").split(ALTERNATES_SEPARATOR)
                    if phrasing.strip()
                ),
            )
            for row in csv.DictReader(file)
        ]


def sample_rows(path: Path | str | None = None) -> list[EvaluationRow]:
    """The rows of evaluation.csv (question, language, expected, kind)."""
    with open(path or SAMPLES_DIR / "evaluation.csv", encoding="utf-8", newline="") as file:
        return [
            EvaluationRow(
                question=row["question"], language=row["language"], expected=row["expected"], kind=row["kind"]
            )
            for row in csv.DictReader(file)
        ]
