"""A stable address stored outside the code: shipped ``model.skops`` artifacts name their
analyzer functions ``service.features.<name>`` (the module's home before the classifier
moved to ``service.classifier``). skops loads them by that name, so it stays importable.
New artifacts record ``service.classifier.features.<name>``; both are trusted types.
"""
from service.classifier.features import char_ngrams, head_char_ngrams, identity, word_ngrams

__all__ = ["char_ngrams", "head_char_ngrams", "identity", "word_ngrams"]
