#!/usr/bin/python3
"""Times XGBoost's pred_contribs (and pred_interactions) on one thread.

argv: model.json rows.f32 nRows nCols. Prints JSON {"contribsMs": median ms, "interactionsMs":
median ms (on the first 50 rows), "xgboost": version}.
"""
import json
import statistics
import sys
import time

import numpy as np
import xgboost as xgb


def median_ms(fn, runs=5):
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    model, path, n, d = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    booster = xgb.Booster(model_file=model)
    booster.set_param({"nthread": 1})
    x = np.fromfile(path, dtype="<f4").reshape(n, d)
    dm = xgb.DMatrix(x, missing=np.nan, nthread=1)
    small = xgb.DMatrix(x[:50], missing=np.nan, nthread=1)
    print(json.dumps({
        "xgboost": xgb.__version__,
        "contribsMs": median_ms(lambda: booster.predict(dm, pred_contribs=True)),
        "interactionsMs": median_ms(lambda: booster.predict(small, pred_interactions=True)),
    }))


if __name__ == "__main__":
    main()
