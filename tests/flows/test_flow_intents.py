"""The offline intent classifier: accuracy on a small labelled set, threshold, determinism."""

from __future__ import annotations

from omnidesk.flows import IntentClassifier
from omnidesk.flows.textmatch import contains_phrase, normalise

TRAINING = {
    "order_status": [
        "where is my order",
        "order status",
        "has my order shipped",
        "when will my package arrive",
        "track my parcel",
        "my delivery is late",
        "wo ist meine bestellung",
    ],
    "returns": [
        "how do I return an item",
        "I want to send something back",
        "refund",
        "exchange a product",
        "return policy",
        "the item is broken",
    ],
    "payment": [
        "which payment methods do you accept",
        "can I pay with paypal",
        "my card was declined",
        "pay by invoice",
        "I was charged twice",
    ],
    "account": [
        "reset my password",
        "I can't log in",
        "change my email address",
        "delete my account",
        "update my address",
    ],
}

LABELLED = [
    ("where's my order 12345??", "order_status"),
    ("Has my parcel been shipped yet", "order_status"),
    ("tracking number for my package", "order_status"),
    ("the delivery is very late", "order_status"),
    ("Wo ist meine Bestellung?", "order_status"),
    ("when does my order arrive", "order_status"),
    ("I'd like to return these shoes", "returns"),
    ("how can I get a refund", "returns"),
    ("the product arrived broken", "returns"),
    ("can I exchange it for another size", "returns"),
    ("what's your returns policy", "returns"),
    ("do you take PayPal", "payment"),
    ("my credit card got declined", "payment"),
    ("can I pay on invoice", "payment"),
    ("you charged me two times", "payment"),
    ("forgot my password", "account"),
    ("cannot login to my account", "account"),
    ("how do I change my e-mail", "account"),
    ("please delete my account", "account"),
    ("new address for my account", "account"),
]


def test_classifier_accuracy_on_a_labelled_set() -> None:
    classifier = IntentClassifier(TRAINING, threshold=0.2)
    predictions = [(classifier.classify(text).intent, label) for text, label in LABELLED]
    correct = sum(predicted == label for predicted, label in predictions)
    assert correct / len(LABELLED) >= 0.9, predictions


def test_exact_example_has_full_confidence() -> None:
    result = IntentClassifier(TRAINING, threshold=0.5).classify("Order status!")
    assert (result.intent, result.confidence) == ("order_status", 1.0)


def test_unrelated_text_is_below_the_threshold() -> None:
    result = IntentClassifier(TRAINING, threshold=0.35).classify("zebra xylophone quartz")
    assert result.intent is None
    assert result.confidence < 0.35


def test_empty_text_has_no_intent() -> None:
    result = IntentClassifier(TRAINING, threshold=0.1).classify("  ?! ")
    assert (result.intent, result.confidence, result.best_guess) == (None, 0.0, None)


def test_classification_is_deterministic() -> None:
    first = IntentClassifier(TRAINING, threshold=0.2)
    second = IntentClassifier(dict(reversed(list(TRAINING.items()))), threshold=0.2)
    for text, _ in LABELLED:
        assert first.classify(text).confidence == second.classify(text).confidence


def test_normalise_folds_case_accents_and_punctuation() -> None:
    assert normalise("  Parler à QUELQU'UN! ") == "parler a quelqu un"
    assert contains_phrase("I'd like to TALK to a person.", "talk to a person")
    assert not contains_phrase("personal agenda", "person")
