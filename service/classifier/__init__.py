"""The classifier: a document's words to a calibrated disclosure category, or an abstention.

- ``features``: TF-IDF features over stored tokens (title, body, 公文 metadata) and a fast path;
- ``model``: ``Classifier`` — prediction, confidence, abstention, rule hints — and ``Prediction``;
- ``explanation``: the words that pushed a document toward its category;
- ``artifact``: saving and loading a model with skops (trusted types only), probes, library versions;
- ``store``: model versions on disk, the active one, rollback (``active_classifier``);
- ``card``: the human-readable model card; ``evaluation``: figures on labelled documents;
- ``train``: candidates, calibration, thresholds, promotion; ``training_data``: the shipped set.

Reads tokens and files, never the web, the queue or the database: retraining from reviewers'
decisions (``service.retrain``) reads the database and hands records in.
"""
from service.classifier.model import Classifier, ModelError, Prediction
from service.classifier.store import ModelStore, active_classifier, store_from_settings

__all__ = ["Classifier", "ModelError", "ModelStore", "Prediction", "active_classifier", "store_from_settings"]
