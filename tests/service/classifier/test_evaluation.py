"""service/classifier/evaluation.py: figures and their bootstrap intervals."""
from service.classifier import evaluation


def test_intervals_are_seeded_and_hold_the_point_estimate():
    true = ["a"] * 30 + ["b"] * 20 + ["c"] * 10
    pred = ["a"] * 27 + ["b"] * 3 + ["b"] * 18 + ["a"] * 2 + ["c"] * 9 + ["a"]
    confident = [i % 4 != 0 for i in range(60)]
    first = evaluation.intervals(true, pred, confident)
    assert first == evaluation.intervals(true, pred, confident)
    point = evaluation.scores(true, pred, ["a", "b", "c"])["macro_f1"]
    low, high = first["macro_f1"]
    assert low < point < high and high - low > 0.05
    assert first["confident_coverage"][0] < 0.75 < first["confident_coverage"][1]
    assert evaluation.intervals(true, pred, confident, seed=1) != first


def test_perfect_predictions_have_a_degenerate_interval_and_no_confident_share_has_none():
    true = ["a", "b", "c"] * 10
    iv = evaluation.intervals(true, true, [False] * 30)
    assert iv["macro_f1"] == [1.0, 1.0]
    assert iv["confident_precision"] is None and iv["confident_coverage"] == [0.0, 0.0]


def test_resampling_whole_sources_widens_the_interval_when_errors_cluster_in_one_source():
    # 10 sources of 6 documents; every error sits in two of them.
    groups = [f"site{i // 6}" for i in range(60)]
    true = ["a", "b"] * 30
    pred = [("b" if t == "a" else "a") if g in ("site0", "site1") else t for t, g in zip(true, groups, strict=True)]
    by_document = evaluation.intervals(true, pred, [True] * 60)
    by_source = evaluation.intervals(true, pred, [True] * 60, groups)
    assert by_source["method"] == "bootstrap over source groups" and by_source["units"] == 10
    width = lambda iv: iv["confident_precision"][1] - iv["confident_precision"][0]  # noqa: E731
    assert width(by_source) > width(by_document) * 1.3


def drawn_documents_intervals(y_true, y_pred, confident, groups=None, resamples=300, seed=0):
    """The bootstrap written plainly: draw the units, gather their documents, score them."""
    import numpy as np

    units = [[i] for i in range(len(y_true))] if groups is None else list(
        {g: [i for i, h in enumerate(groups) if h == g] for g in dict.fromkeys(groups)}.values())
    rng = np.random.default_rng(seed)
    f1s, precisions, coverages = [], [], []
    for _ in range(resamples):
        idx = [i for u in rng.integers(0, len(units), len(units)) for i in units[u]]
        t, p, c = [y_true[i] for i in idx], [y_pred[i] for i in idx], [confident[i] for i in idx]
        f1s.append(evaluation.scores(t, p, sorted(set(t) | set(p)))["macro_f1"])
        coverages.append(sum(c) / len(c))
        if any(c):
            precisions.append(sum(a == b for a, b, k in zip(t, p, c, strict=True) if k) / sum(c))
    span = lambda v: [round(float(x), 3) for x in np.percentile(v, [2.5, 97.5])] if v else None  # noqa: E731
    return {"macro_f1": span(f1s), "confident_precision": span(precisions), "confident_coverage": span(coverages)}


def test_counted_resamples_give_the_intervals_of_drawing_the_documents_themselves():
    import random

    rng = random.Random(7)
    for trial in range(12):
        n = rng.randint(5, 120)
        labels = "abcdefghi"[:rng.randint(2, 9)]
        true = [rng.choice(labels) for _ in range(n)]
        pred = [t if rng.random() < 0.8 else rng.choice(labels) for t in true]
        confident = [rng.random() < 0.7 for _ in range(n)]
        groups = [f"site{rng.randint(0, 9)}" for _ in range(n)]
        for g in (None, groups):
            got = evaluation.intervals(true, pred, confident, g, resamples=300)
            want = drawn_documents_intervals(true, pred, confident, g)
            # scores() rounds each macro-F1 to 4 places before the percentile: equal to 0.001
            for key in ("confident_precision", "confident_coverage"):
                assert got[key] == want[key], (trial, g is None, key)
            assert all(abs(a - b) <= 0.001 for a, b in zip(got["macro_f1"], want["macro_f1"], strict=False)), trial
