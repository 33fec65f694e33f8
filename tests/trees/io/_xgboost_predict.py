#!/usr/bin/python3
"""Loads XGBoost models written by Tessera and predicts with XGBoost itself.

Reads a JSON list of cases from the file named by argv[1]: each {"model": "<path of a .json
model file>", "X": rows (null = missing)}. Writes to stdout a JSON list of
{"margin": [...], "prediction": [...]} (flattened row-major, float32 values as float64).
"""
import json
import sys

import numpy as np
import xgboost as xgb


def main():
    with open(sys.argv[1]) as handle:
        cases = json.load(handle)
    out = []
    for case in cases:
        booster = xgb.Booster(model_file=case["model"])
        x = np.array([[np.nan if v is None else v for v in row] for row in case["X"]], np.float32)
        types = booster.feature_types
        categorical = types is not None and "c" in types
        dm = xgb.DMatrix(x, missing=np.nan, feature_types=types if categorical else None,
                         enable_categorical=categorical)
        out.append({
            "margin": booster.predict(dm, output_margin=True).ravel().astype(float).tolist(),
            "prediction": booster.predict(dm).ravel().astype(float).tolist(),
        })
    json.dump({"xgboost": xgb.__version__, "results": out}, sys.stdout)


if __name__ == "__main__":
    main()
