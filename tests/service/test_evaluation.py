"""service/evaluation.py: figures and their bootstrap intervals."""
from service import evaluation


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
    pred = [("b" if t == "a" else "a") if g in ("site0", "site1") else t for t, g in zip(true, groups)]
    by_document = evaluation.intervals(true, pred, [True] * 60)
    by_source = evaluation.intervals(true, pred, [True] * 60, groups)
    assert by_source["method"] == "bootstrap over source groups" and by_source["units"] == 10
    width = lambda iv: iv["confident_precision"][1] - iv["confident_precision"][0]  # noqa: E731
    assert width(by_source) > width(by_document) * 1.3
