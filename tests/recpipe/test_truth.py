from __future__ import annotations

import pandas as pd
import pytest

from recpipe.truth import feature_truth_report


def test_truth_report_on_a_hand_built_population():
    truth = pd.DataFrame({"user_id": ["a", "b", "c", "d", "x"],
                          "user_type": ["buyer", "browser", "buyer", "browser", "buyer"],
                          "true_view_to_cart": [0.2, 0.01, 0.3, 0.02, 0.5]})
    # Rows in another order than the truth, and one true user without features: matched by user_id.
    features = pd.DataFrame({"user_id": ["d", "c", "b", "a"], "p_buyer": [0.4, 0.9, 0.1, 0.3],
                             "view_to_cart_28d": [0.02, 0.3, 0.01, 0.2],
                             "view_to_cart_raw_28d": [0.5, None, 0.0, 0.0]})
    r = feature_truth_report(features, truth)
    assert r["users"] == 4 and r["true_buyer_share"] == 0.5
    assert r["type_auc"] == pytest.approx(0.75)      # a (0.3) ranks below d (0.4); the other 3 pairs right
    assert r["type_accuracy"] == pytest.approx(0.75)  # a is called a browser at 0.5
    assert r["view_to_cart_corr_smoothed"] == pytest.approx(1.0)
    assert r["view_to_cart_corr_raw"] < 0.5
