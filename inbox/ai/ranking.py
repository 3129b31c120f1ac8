"""Ranks a knowledge base's pairs against a customer's message: TF-IDF over words and character
n-grams (scikit-learn), a rapidfuzz rerank of the best few for typos, and a calibrated confidence."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

# scipy and scikit-learn ship no type information
from scipy import sparse  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

from inbox.ai.types import KnowledgePair

# Function words that say nothing about the topic: English, Hinglish (Latin) and Hindi. Without
# them "do you sell shoes?" looks much like "do you sell gift cards?".
_STOP_WORDS_TEXT = """
    a about am an and any anything are as at be been but by can could did do does doing for from
    get got had has have having he her here him his how i if im in into is it its just me my of on
    or our please pls plz she so some than that the their them then there these they this those to
    too up us was we were what whats when where which who why will with would you your yours hi
    hello hey dear sir madam maam mam ok okay thanks thank thx kindly also want need tell know
    kya kyaa hai hain ho hoga hogi tha thi the mera meri mere mujhe muje main mai mein me hum humein
    aap ap apka apki apke aapka aapki aapke ka ki ke ko se par pe aur ya bhi toh to hi na nahi
    nhi kaise kese kab kahan kaha kitna kitne kitni kaun kyun kyu koi kuch yeh ye woh wo voh isko
    usko iska uska karu karun karna karni karo kare karein kar sakte sakta sakti ji bhai bhaiya
    didi batao bataiye bataye plz chahiye hoti hota raha rahi rahe gaya gayi gaye wala wali wale
    milega milegi milenge milta milti mil dijiye dena dedo bata
    क्या है हैं हो था थी थे मैं मेरा मेरी मेरे मुझे हम हमें आप आपका आपकी आपके का की के को से
    में पर और या भी तो ही न नहीं कैसे कब कहाँ कहां कितना कितने कितनी कौन क्यों कोई कुछ यह ये वह वो
    कर करूँ करूं करें करना करनी सकते सकता सकती जी बताइए बताओ बताएं चाहिए होता होती हूँ हूं
"""

_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_LATIN = re.compile(r"[a-z\u00c0-\u024f]", re.IGNORECASE)
# Anything that is not a letter, digit or Devanagari sign (vowel signs are not \w in Python) is a
# separator; the danda and double danda are punctuation.
_SEPARATORS = re.compile(r"[^\w\u0900-\u0963\u0966-\u097f]+|_")
# Customers type Hindi with and without nukta and chandrabindu; fold both to the plain letter.
_DEVANAGARI_FOLD = str.maketrans({"\u093c": None, "\u0901": "\u0902"})
_LATIN_ACCENTS = re.compile(r"[\u0300-\u036f]+")


def normalise(text: str) -> str:
    """Casefolded NFKC text, accents stripped from Latin letters (Devanagari kept), words separated
    by single spaces; emoji and punctuation become separators."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():
        # Latin accents decompose to U+0300–U+036F; Devanagari's signs lie outside that block.
        text = _LATIN_ACCENTS.sub("", unicodedata.normalize("NFD", text))
        text = unicodedata.normalize("NFC", text).translate(_DEVANAGARI_FOLD)
    return " ".join(_SEPARATORS.split(text)).strip()


STOP_WORDS = frozenset(normalise(word) for word in _STOP_WORDS_TEXT.split())


def script_of(text: str) -> str:
    """ "hi" when at least a third of the letters are Devanagari (a Hindi message keeps English
    brand and product names: "Kavya Circle क्या होता है?"), else "en" (English and Hinglish)."""
    devanagari = len(_DEVANAGARI.findall(text))
    return "hi" if devanagari and 2 * devanagari >= len(_LATIN.findall(text)) else "en"


@dataclass(frozen=True)
class MatchFeatures:
    """What the confidence is computed from: the best phrasing's word and character cosine, the
    share of the question's word weight the pair's answer contains, the best rapidfuzz score of
    its phrasings (0–1), the margin of its final score over the runner-up pair's, and the share of
    the question's words the knowledge base knows at all."""

    word: float
    char: float
    answer: float
    fuzzy: float
    margin: float
    coverage: float

    def vector(self) -> tuple[float, ...]:
        return (self.word, self.char, self.answer, self.fuzzy, self.margin, self.coverage)


@dataclass(frozen=True)
class Match:
    """A pair for the question: `score` ranks, `confidence` is the calibrated probability that
    the pair's answer answers the question."""

    pair: KnowledgePair
    score: float
    features: MatchFeatures
    confidence: float


# Ranking weights, chosen by leave-one-out top-1 accuracy over the sample knowledge base's
# phrasings, among those that still rank every phrasing's own pair first when it is asked as is
# (`python -m bench.ai_calibrate --ranking` prints the comparison).
WORD_WEIGHT = 0.3  # of the phrasing score; the rest is the character score
ANSWER_WEIGHT = 0.9  # at most 1 (see _search)
FUZZY_WEIGHT = 0.15
CHAR_NGRAMS = (2, 4)
RERANK_DEPTH = 20

# P(the best pair answers the question) = logistic(COEFFICIENTS · MatchFeatures.vector() + INTERCEPT).
# Fitted offline by `python -m bench.ai_calibrate` (scikit-learn LogisticRegression) on the sample
# knowledge base (samples/ai/knowledge_base.csv): every phrasing asked with itself left out (label:
# the best pair is its own) and with its whole pair left out (label 0: what an unknown question
# looks like). Never fitted on samples/ai/evaluation.csv, the held-out test. Refit after changing
# the ranking or the features: run the script and paste the two constants it prints.
COEFFICIENTS = (0.942, 1.340, 1.117, 0.387, 2.158, 2.268)  # word, char, answer, fuzzy, margin, coverage
INTERCEPT = -5.027


def calibrated_confidence(features: MatchFeatures) -> float:
    logit = INTERCEPT + sum(c * x for c, x in zip(COEFFICIENTS, features.vector(), strict=True))
    return 1.0 / (1.0 + math.exp(-logit))


class KnowledgeIndex:
    """The pairs of one knowledge base, indexed once. Each pair is indexed by its question and
    alternates (one row each, "phrasings") and, weighted lower, by its answer."""

    def __init__(self, pairs: Sequence[KnowledgePair]) -> None:
        self.pairs: tuple[KnowledgePair, ...] = tuple(pairs)
        phrasings: list[str] = []
        row_pair: list[int] = []
        for position, pair in enumerate(self.pairs):
            for phrasing in (pair.question, *pair.alternates):
                phrasings.append(normalise(phrasing))
                row_pair.append(position)
        # rows of a pair are contiguous: pair p owns rows pair_start[p]:pair_start[p + 1]
        self.pair_start = np.searchsorted(np.asarray(row_pair, dtype=np.int64), np.arange(len(self.pairs) + 1))
        self.pair_language = np.asarray([pair.language for pair in self.pairs])
        self._row_content = [_without_stop_words(text) for text in phrasings]
        self._fields: tuple[_Field, ...] = ()
        if self.pairs:
            answers = [normalise(pair.answer) for pair in self.pairs]
            self._fields = (
                _Field.build(TfidfVectorizer(analyzer=word_terms), phrasings, answers),
                _Field.build(
                    TfidfVectorizer(lowercase=False, analyzer="char_wb", ngram_range=CHAR_NGRAMS),
                    [_without_stop_words(text) for text in phrasings],
                    [_without_stop_words(text) for text in answers],
                ),
            )

    def __len__(self) -> int:
        return len(self.pairs)

    def search(self, question: str, *, language: str = "", limit: int = 5) -> list[Match]:
        """The best pairs for `question`, best first, preferring pairs in its language."""
        return self._search(question, language=language, limit=limit, hidden_rows=(), hidden_pair=-1)

    def search_held_out(
        self, question: str, *, position: int, phrasing: int | None, language: str = "", limit: int = 5
    ) -> list[Match]:
        """`search` as if one phrasing (`phrasing`: 0 the question, 1… the alternates) of the
        pair at `position` were not in the knowledge base or, with `phrasing=None`, the whole
        pair. Used by leave-one-out: the vocabulary and IDF weights stay those of the whole base
        (one phrasing among hundreds moves them little), but words only the hidden text had are
        dropped from the question, as an index built without it would drop them."""
        start, end = int(self.pair_start[position]), int(self.pair_start[position + 1])
        if phrasing is None:
            hidden_rows: Sequence[int] = range(start, end)
            return self._search(question, language=language, limit=limit, hidden_rows=hidden_rows, hidden_pair=position)
        hidden_rows = (start + phrasing,)
        return self._search(question, language=language, limit=limit, hidden_rows=hidden_rows, hidden_pair=-1)

    def _search(
        self, question: str, *, language: str, limit: int, hidden_rows: Sequence[int], hidden_pair: int
    ) -> list[Match]:
        if not self.pairs or limit <= 0:
            return []
        candidates = self._pairs_in_language(language or script_of(question), hidden_pair)
        depth = min(max(RERANK_DEPTH, limit + 1), int(candidates.sum()))
        if depth <= 0:
            return []
        content = _without_stop_words(normalise(question))
        words, chars = self._fields
        word_query, coverage = words.query(content, hidden_rows, hidden_pair)
        char_query, _ = chars.query(content, hidden_rows, hidden_pair)
        word_rows, word_cover = words.scores(word_query)
        char_rows, _ = chars.scores(char_query)
        row_score = WORD_WEIGHT * word_rows + (1 - WORD_WEIGHT) * char_rows
        row_score[list(hidden_rows)] = -1.0
        # An answer is long, so its cosine is always low: what counts is how much of the question
        # it covers (its share of the question's weight).
        answer = word_cover
        phrasing_score = np.maximum.reduceat(row_score, self.pair_start[:-1])
        # The answer only fills the gap the phrasings leave: with ANSWER_WEIGHT ≤ 1 the sum stays
        # ≤ 1, so a phrasing the customer typed word for word always wins over an answer that
        # merely contains the question's words.
        pair_score = phrasing_score + ANSWER_WEIGHT * answer * (1 - np.clip(phrasing_score, 0, 1))
        pair_score[~candidates] = -np.inf
        top = np.argpartition(-pair_score, depth - 1)[:depth]

        hidden = set(hidden_rows)
        reranked = []
        for position in top.tolist():
            rows = range(int(self.pair_start[position]), int(self.pair_start[position + 1]))
            # token_set_ratio forgives typos and word order ("delivry time mumbai")
            fuzzy = max(
                (fuzz.token_set_ratio(content, self._row_content[row]) / 100.0 for row in rows if row not in hidden),
                default=0.0,
            )
            reranked.append((float(pair_score[position]) + FUZZY_WEIGHT * fuzzy, position, fuzzy))
        reranked.sort(reverse=True)

        matches = []
        runner_up = reranked[1][0] if len(reranked) > 1 else 0.0
        for rank, (score, position, fuzzy) in enumerate(reranked[:limit]):
            # only the best pair is ahead of the others; every other one is behind the best
            margin = max(0.0, score - runner_up) if rank == 0 else 0.0
            start = int(self.pair_start[position])
            row = start + int(np.argmax(row_score[start : self.pair_start[position + 1]]))
            features = MatchFeatures(
                word=float(word_rows[row]),
                char=float(char_rows[row]),
                answer=float(answer[position]),
                fuzzy=fuzzy,
                margin=margin,
                coverage=coverage,
            )
            confidence = calibrated_confidence(features)
            matches.append(Match(pair=self.pairs[position], score=score, features=features, confidence=confidence))
        return matches

    def _pairs_in_language(self, language: str, hidden_pair: int) -> np.ndarray:
        """Devanagari questions go to `hi` pairs, the rest to `en` (another language code to its
        own pairs); every pair when the base has none in that language."""
        available = np.ones(len(self.pairs), dtype=bool)
        if hidden_pair >= 0:
            available[hidden_pair] = False
        in_language = available & (self.pair_language == language)
        return in_language if in_language.any() else available


@dataclass(frozen=True)
class _Field:
    """One TF-IDF view (words or character n-grams) of the phrasings and the answers, stored
    feature by feature (posting lists) so that a query reads only its own features' postings. The
    query is weighted here rather than by `TfidfVectorizer.transform`, whose input checks cost
    milliseconds per call."""

    analyzer: Callable[[str], list[str]]
    vocabulary: dict[str, int]
    idf: np.ndarray
    rows_by_feature: sparse.csr_matrix
    # 1 where an answer has the feature: the answer's share of the question is a sum of weights²
    answer_presence_by_feature: sparse.csr_matrix
    # document by document, for leave-one-out to find the words only a hidden text has
    row_features: sparse.csr_matrix
    answer_features: sparse.csr_matrix
    document_frequency: np.ndarray

    @classmethod
    def build(cls, vectorizer: TfidfVectorizer, rows: list[str], answers: list[str]) -> _Field:
        vectorizer.set_params(sublinear_tf=True, dtype=np.float64)
        matrix = vectorizer.fit_transform(rows + answers).tocsr()
        row_matrix, answer_matrix = matrix[: len(rows)], matrix[len(rows) :]
        features = row_matrix.shape[1]
        return cls(
            analyzer=vectorizer.build_analyzer(),
            vocabulary=vectorizer.vocabulary_,
            idf=vectorizer.idf_,
            rows_by_feature=row_matrix.T.tocsr(),
            answer_presence_by_feature=(answer_matrix.T > 0).astype(np.float64).tocsr(),
            row_features=row_matrix,
            answer_features=answer_matrix,
            document_frequency=np.bincount(row_matrix.indices, minlength=features)
            + np.bincount(answer_matrix.indices, minlength=features),
        )

    def query(
        self, text: str, hidden_rows: Sequence[int] = (), hidden_pair: int = -1
    ) -> tuple[tuple[np.ndarray, np.ndarray], float]:
        """The question's (features, l2-normalised sublinear tf-idf weights), and the share of its
        terms the visible knowledge base knows."""
        terms = self.analyzer(text)
        counts: dict[int, int] = {}
        for term in terms:
            feature = self.vocabulary.get(term)
            if feature is not None:
                counts[feature] = counts.get(feature, 0) + 1
        features = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if len(hidden_rows) and len(features):
            frequency = self.document_frequency[features].copy()
            for row in hidden_rows:
                frequency -= np.isin(features, _columns(self.row_features, row))
            if hidden_pair >= 0:
                frequency -= np.isin(features, _columns(self.answer_features, hidden_pair))
            visible = frequency > 0
            features, tf = features[visible], tf[visible]
        coverage = float(tf.sum()) / len(terms) if terms else 0.0
        weights = (1.0 + np.log(tf)) * self.idf[features]
        norm = float(np.sqrt(weights @ weights))
        return (features, weights / norm if norm else weights), coverage

    def scores(self, query: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The query's cosine with every row, and the share of its weight each answer contains."""
        features, weights = query
        return _dot(self.rows_by_feature, query), _dot(self.answer_presence_by_feature, (features, weights * weights))


def _columns(matrix: sparse.csr_matrix, row: int) -> np.ndarray:
    return matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]]


def _dot(by_feature: sparse.csr_matrix, query: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """query · every column of a (feature × document) matrix, reading only the query's features'
    posting lists."""
    features, weights = query
    starts = by_feature.indptr[features]
    lengths = by_feature.indptr[features + 1] - starts
    total = int(lengths.sum())
    documents = by_feature.shape[1]
    if not total:
        return np.zeros(documents)
    # positions of every posting of every query feature, concatenated
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    positions = offsets + np.arange(total)
    contributions = by_feature.data[positions] * np.repeat(weights, lengths)
    return np.bincount(by_feature.indices[positions], weights=contributions, minlength=documents)


def word_terms(text: str) -> list[str]:
    """The terms the word view indexes: normalised words, stop words out, English endings cut."""
    return [_stem(word) for word in text.split() if word not in STOP_WORDS]


_ENDINGS = ("ies", "es", "s", "ing", "ed", "ly")


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """A crude English stemmer ("deliveries", "delivered", "delivery" → "deliver"): enough to
    let a question's word meet the knowledge base's other form of it."""
    if len(word) < 5 or not word.isascii() or not word.isalpha():
        return word
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            if ending == "s" and word.endswith("ss"):
                continue
            word = word[: -len(ending)]
            break
    if len(word) > 3 and word[-1] in "eiy":
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]
    return word


def _without_stop_words(text: str) -> str:
    return " ".join(word for word in text.split() if word not in STOP_WORDS)
