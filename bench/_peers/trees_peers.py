"""Native peers of the trees benchmark: XGBoost 1.7 (tree_method hist) and scikit-learn's
HistGradientBoostingClassifier, timed on the data the TypeScript side wrote.

Usage: python3 trees_peers.py CONFIG.json  (prints one JSON object)

CONFIG names raw little-endian files (float32 features, row-major; float32 labels) and the
shared parameters. Each figure is the best (fit) or median (predict) over the thread counts
and repeats listed there; peak memory is the growth of the process's peak resident set
during one fit, after resetting the peak with /proc/self/clear_refs.
"""
import json
import os
import sys
import time

import numpy as np


def read(path, rows, cols):
    data = np.fromfile(path, dtype="<f4")
    return data.reshape(rows, cols) if cols > 1 else data


def rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measured_fit(fit):
    """Runs fit() once; returns (seconds, model, peak bytes above the resident set before)."""
    can_reset = reset_peak()
    before = rss_kib("VmRSS")
    start = time.perf_counter()
    model = fit()
    seconds = time.perf_counter() - start
    peak = (rss_kib("VmHWM") - before) * 1024 if can_reset else float("nan")
    return seconds, model, peak


def median_time(fn, repeats):
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def accuracy(task, scores, y):
    if task == "binary":
        predicted = (scores > 0.5).astype(np.float32)
    else:
        predicted = np.argmax(scores, axis=1).astype(np.float32)
    return float(np.mean(predicted == y))


def run_xgboost(cfg, x, y, tx, ty):
    import xgboost as xgb

    p = cfg["params"]
    params = {
        "tree_method": "hist",
        "max_depth": p["maxDepth"],
        "eta": p["learningRate"],
        "max_bin": p["maxBin"],
        "lambda": 1.0,
        "min_child_weight": 1.0,
        "base_score": 0.5,
    }
    if cfg["task"] == "binary":
        params["objective"] = "binary:logistic"
    else:
        params["objective"] = "multi:softprob"
        params["num_class"] = cfg["nClasses"]
    out = {"version": xgb.__version__, "fit": {}, "peak": {}}
    best = None
    for threads in cfg["threads"]:
        params["nthread"] = threads

        def fit():
            d = xgb.DMatrix(x, label=y, nthread=threads)
            return xgb.train(params, d, p["nEstimators"])

        seconds, booster, peak = measured_fit(fit)
        out["fit"][str(threads)] = seconds
        out["peak"][str(threads)] = peak
        if best is None or seconds < best[0]:
            best = (seconds, booster)
    booster = best[1]
    scores = booster.predict(xgb.DMatrix(tx))
    out["accuracy"] = accuracy(cfg["task"], scores, ty)
    predict = {}
    for threads in cfg["threads"]:
        booster.set_param({"nthread": threads})
        predict[str(threads)] = min(
            median_time(lambda: booster.predict(xgb.DMatrix(tx, nthread=threads)), cfg["repeats"]),
            median_time(lambda: booster.inplace_predict(tx), cfg["repeats"]),
        )
    out["predict"] = predict
    return out


def run_sklearn(cfg, x, y, tx, ty):
    import sklearn
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    p = cfg["params"]
    out = {"version": sklearn.__version__, "fit": {}, "peak": {}}
    best = None
    for threads in cfg.get("sklearnThreads", cfg["threads"]):
        with threadpool_limits(limits=threads):
            def fit():
                model = HistGradientBoostingClassifier(
                    max_iter=p["nEstimators"],
                    learning_rate=p["learningRate"],
                    max_depth=p["maxDepth"],
                    max_leaf_nodes=None,
                    min_samples_leaf=1,
                    l2_regularization=1.0,
                    max_bins=min(255, p["maxBin"] - 1),
                    early_stopping=False,
                    random_state=0,
                )
                return model.fit(x, y)

            seconds, model, peak = measured_fit(fit)
        out["fit"][str(threads)] = seconds
        out["peak"][str(threads)] = peak
        if best is None or seconds < best[0]:
            best = (seconds, model)
    model = best[1]
    scores = model.predict_proba(tx)
    out["accuracy"] = accuracy(cfg["task"], scores[:, 1] if cfg["task"] == "binary" else scores, ty)
    predict = {}
    for threads in cfg.get("sklearnThreads", cfg["threads"]):
        with threadpool_limits(limits=threads):
            predict[str(threads)] = median_time(lambda: model.predict_proba(tx), cfg["repeats"])
    out["predict"] = predict
    return out


def main():
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    n, m, cols = cfg["nTrain"], cfg["nTest"], cfg["nCols"]
    x = read(cfg["trainX"], n, cols)
    y = read(cfg["trainY"], n, 1)
    tx = read(cfg["testX"], m, cols)
    ty = read(cfg["testY"], m, 1)
    result = {}
    for name, run in (("xgboost", run_xgboost), ("sklearn", run_sklearn)):
        if name not in cfg["peers"]:
            continue
        try:
            result[name] = run(cfg, x, y, tx, ty)
        except Exception as error:  # a missing package must not sink the other peer
            result[name] = {"error": f"{type(error).__name__}: {error}"}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_CORETYPE", "SKYLAKEX")
    main()
