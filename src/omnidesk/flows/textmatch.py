"""Offline text matching: normalisation and a character n-gram TF-IDF cosine index."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

_NON_WORD = re.compile(r"[^\w]+")
_DIGITS = re.compile(r"\d+")
_NGRAM_SIZES = (3, 4, 5)

Vector = dict[str, float]


def normalise(text: str) -> str:
    """Casefold, strip accents and punctuation, and collapse whitespace."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_marks = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NON_WORD.sub(" ", without_marks).replace("_", " ").split())


def contains_phrase(text: str, phrase: str) -> bool:
    """True when the normalised phrase occurs in the normalised text as whole words."""
    words, wanted = normalise(text).split(), normalise(phrase).split()
    if not wanted:
        return False
    width = len(wanted)
    return any(words[start : start + width] == wanted for start in range(len(words) - width + 1))


def features(text: str) -> Counter[str]:
    """Word tokens plus character n-grams of each padded word; digit runs become '#'."""
    words = _DIGITS.sub("#", normalise(text)).split()
    counts: Counter[str] = Counter(f"w:{word}" for word in words)
    for word in words:
        padded = f" {word} "
        for size in _NGRAM_SIZES:
            counts.update(padded[i : i + size] for i in range(max(len(padded) - size + 1, 1)))
    return counts


def cosine(left: Vector, right: Vector) -> float:
    """Cosine similarity of two L2-normalised sparse vectors."""
    if len(left) > len(right):
        left, right = right, left
    return sum(weight * right.get(term, 0.0) for term, weight in left.items())


@dataclass(frozen=True)
class Match:
    """A scored label from an index search."""

    label: str
    score: float


class TfidfIndex:
    """Documents with labels, searchable by TF-IDF cosine similarity; deterministic."""

    def __init__(self, documents: Sequence[tuple[str, str]]) -> None:
        counted = [(label, features(text)) for label, text in documents]
        frequency: Counter[str] = Counter()
        for _, counts in counted:
            frequency.update(counts.keys())
        total = len(counted)
        self._idf = {term: math.log((1 + total) / (1 + df)) + 1.0 for term, df in frequency.items()}
        self._documents = [(label, self._weigh(counts)) for label, counts in counted]

    def vectorise(self, text: str) -> Vector:
        """Turn a text into an L2-normalised TF-IDF vector over the index's vocabulary."""
        return self._weigh(features(text))

    def best_per_label(self, text: str) -> list[Match]:
        """Each label's best document score for the text, best first, ties in insertion order."""
        query = self.vectorise(text)
        best: dict[str, float] = {}
        for label, vector in self._documents:
            best[label] = max(best.get(label, 0.0), cosine(query, vector))
        ranked = sorted(best.items(), key=lambda item: -item[1])
        return [Match(label, round(score, 6)) for label, score in ranked]

    def _weigh(self, counts: Counter[str]) -> Vector:
        weights = {
            term: (1.0 + math.log(count)) * self._idf[term]
            for term, count in counts.items()
            if term in self._idf
        }
        norm = math.sqrt(sum(weight * weight for weight in weights.values()))
        return {term: weight / norm for term, weight in weights.items()} if norm else {}


@dataclass(frozen=True)
class IntentResult:
    """The classifier's verdict: the intent (None below the threshold) and its confidence."""

    intent: str | None
    confidence: float
    best_guess: str | None


class IntentClassifier:
    """Classifies text into intents trained from example phrases, with a confidence threshold."""

    def __init__(self, examples: dict[str, list[str]], threshold: float) -> None:
        self.threshold = threshold
        self._index = TfidfIndex(
            [(intent, phrase) for intent, phrases in examples.items() for phrase in phrases]
        )

    def classify(self, text: str) -> IntentResult:
        """Return the best intent for the text, or None when confidence is below the threshold."""
        ranked = self._index.best_per_label(text)
        if not ranked or ranked[0].score <= 0.0:
            return IntentResult(None, 0.0, None)
        top = ranked[0]
        chosen = top.label if top.score >= self.threshold else None
        return IntentResult(chosen, top.score, top.label)
