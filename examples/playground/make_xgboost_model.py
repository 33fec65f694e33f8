#!/usr/bin/python3
"""Writes xgboost_breast_cancer.json, the example model of the playground's Trees panel.

Run with Debian's python3-xgboost 1.7 and python3-sklearn 1.2:

    /usr/bin/python3 examples/playground/make_xgboost_model.py

Native XGBoost trains binary:logistic on scikit-learn's breast cancer data, on the rows whose
fold id (tests/fixtures/trees/data_breast_cancer.json) is not 0. The file holds XGBoost's own
JSON model (``save_model``) under ``model``, the held-out fold-0 rows under ``X`` with their
labels ``y`` (0 malignant, 1 benign), and XGBoost's probabilities of class 1 on them under
``prediction`` at float32 precision, so the page can show how closely Tessera agrees.
"""
import json
import os
import tempfile

import numpy as np
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "tests", "fixtures", "trees", "data_breast_cancer.json")


def f32(values):
    return [float(repr(np.float32(v))) for v in np.asarray(values, np.float32).ravel()]


def main():
    with open(DATA) as handle:
        data = json.load(handle)
    x = np.array(data["X"], dtype=np.float32)
    y = np.array(data["y"], dtype=np.float32)
    test = np.array(data["fold"]) == 0
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "tree_method": "hist",
              "seed": 0, "nthread": 1}
    booster = xgb.train(params, xgb.DMatrix(x[~test], label=y[~test]), num_boost_round=25)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.json")
        booster.save_model(path)
        with open(path) as handle:
            model = json.load(handle)
    prediction = booster.predict(xgb.DMatrix(x[test]))
    payload = {
        "note": "binary:logistic on breast cancer (scikit-learn), trained on folds 1-4",
        "xgboost": xgb.__version__,
        "params": params,
        "classes": ["malignant", "benign"],
        "model": model,
        "X": [f32(row) for row in x[test]],
        "y": [int(v) for v in y[test]],
        "prediction": f32(prediction),
    }
    out = os.path.join(HERE, "xgboost_breast_cancer.json")
    with open(out, "w") as handle:
        json.dump(payload, handle, separators=(",", ":"))
    accuracy = float(np.mean((prediction > 0.5) == y[test]))
    print(f"xgboost_breast_cancer.json: {os.path.getsize(out) // 1024} KiB, test accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
