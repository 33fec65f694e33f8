/**
 * What loading a model refuses, case by case, with the message it gives: the rules that the
 * mutation fuzz (model_fuzz_test.ts) checks at random.
 */
import assert from "node:assert/strict";
import {
  AdaBoostClassifier,
  DecisionTreeClassifier,
  DecisionTreeRegressor,
  fromXGBoostJSON,
  LogisticRegression,
  RandomForestClassifier,
  Ridge,
  XGBRegressor,
} from "../../../src/mod.ts";
import { loadUBJSON } from "../_explain_fixtures.ts";

const X = [[0, 0], [0, 1], [1, 0], [1, 1], [2, 1], [2, 0]];
const y = [0, 1, 2, 3, 4, 5];

type Json = Record<string, unknown>;
/** A fitted regression tree's toJSON() and its model object. */
async function savedTree(): Promise<{ json: Json; model: Json }> {
  const json = structuredClone(
    (await new DecisionTreeRegressor({ backend: "js", maxDepth: 2 }).fit(X, y)).toJSON(),
  );
  return { json, model: (json.fitted as Json).model as Json };
}

Deno.test("fromJSON() names the field and the value of a non-finite number", async () => {
  const cases: [string, unknown, RegExp, ErrorConstructor][] = [
    [
      "value",
      NaN,
      /"json\.fitted\.model\.value\[1\]" to be a finite number but found NaN/,
      RangeError,
    ],
    [
      "value",
      Infinity,
      /"json\.fitted\.model\.value\[1\]" to be a finite number but found Infinity/,
      RangeError,
    ],
    [
      "value",
      1e39,
      /"json\.fitted\.model\.value\[1\]" to be a finite float32 but found 1e\+39/,
      RangeError,
    ],
    [
      "value",
      null,
      /"json\.fitted\.model\.value\[1\]" to be a finite number but found null/,
      TypeError,
    ],
    [
      "threshold",
      NaN,
      /"json\.fitted\.model\.threshold\[1\]" to be a finite number but found NaN/,
      RangeError,
    ],
    [
      "cover",
      "3",
      /"json\.fitted\.model\.cover\[1\]" to be a finite number but found "3"/,
      TypeError,
    ],
    ["gain", NaN, /"json\.fitted\.model\.gain\[1\]"/, RangeError],
  ];
  for (const [key, bad, message, type] of cases) {
    const { json, model } = await savedTree();
    (model[key] as unknown[])[1] = bad;
    assert.throws(() => DecisionTreeRegressor.fromJSON(json), (e: Error) => {
      assert.ok(e instanceof type, `${key} = ${bad}: ${e}`);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("fromJSON() refuses holes, base margins and sums of leaves that overflow", async () => {
  let { json, model } = await savedTree();
  delete (model.value as unknown[])[2];
  assert.throws(
    () => DecisionTreeRegressor.fromJSON(json),
    {
      name: "TypeError",
      message: /"json\.fitted\.model\.value\[2\]" to be present but it is a hole/,
    },
  );
  ({ json, model } = await savedTree());
  model.baseMargin = [NaN];
  assert.throws(
    () => DecisionTreeRegressor.fromJSON(json),
    /"json\.fitted\.model\.baseMargin\[0\]"/,
  );
  // Every leaf finite, but two trees of leaves near float32's largest add up beyond it.
  const xgb = structuredClone(
    (await new XGBRegressor({ backend: "js", nEstimators: 2, maxDepth: 1 }).fit(X, y)).toJSON(),
  );
  const m = (xgb.fitted as Json).model as Json;
  m.value = (m.value as number[]).map((v, i) => ((m.feature as number[])[i] < 0 ? 3e38 : v));
  assert.throws(() => XGBRegressor.fromJSON(xgb), /add up to finite float32 outputs but output 0/);
});

Deno.test("fromJSON() refuses indices out of range, cycles and inconsistent lengths", async () => {
  const cases: [(m: Json) => void, RegExp][] = [
    [
      (m) => ((m.feature as number[])[0] = 2),
      /"json\.fitted\.model\.feature\[0\]" to be an integer in \[-1, 1\] but found 2/,
    ],
    [
      (m) => ((m.feature as number[])[0] = 0.5),
      /"json\.fitted\.model\.feature\[0\]" to be an integer/,
    ],
    [(m) => ((m.left as number[])[0] = 0), /to have children in \(0, \d+\) but found 0/],
    [
      (m) => ((m.right as number[])[0] = 99),
      /"json\.fitted\.model\.right\[0\]" to be an integer in \[-1, \d+\] but found 99/,
    ],
    [(m) => ((m.defaultLeft as number[])[0] = 2), /"json\.fitted\.model\.defaultLeft\[0\]"/],
    [(m) => (m.value as number[]).pop(), /"json\.fitted\.model\.value" to have \d+ entries/],
    [(m) => (m.treeStart = [0, 2 ** 31]), /"json\.fitted\.model\.treeStart\[1\]"/],
    [
      (m) => (m.nFeatures = 1e300),
      /"json\.fitted\.model\.nFeatures" to be an integer in \[1, 2147483647\] but found 1e\+300/,
    ],
    [(m) => (m.nOutputs = 2), /"json\.fitted\.model\.baseMargin" to have 2 entries but found 1/],
  ];
  for (const [change, message] of cases) {
    const { json, model } = await savedTree();
    change(model);
    assert.throws(() => DecisionTreeRegressor.fromJSON(json), message);
  }
  // A node reached twice (left and right the same child).
  const { json, model } = await savedTree();
  (model.right as number[])[0] = (model.left as number[])[0];
  assert.throws(() => DecisionTreeRegressor.fromJSON(json), /to reach node \d+ once only/);
});

Deno.test("fromJSON() refuses unknown criteria, objectives and inherited names", async () => {
  const tree = (await new DecisionTreeClassifier({ backend: "js" }).fit(X, [0, 1, 0, 1, 0, 1]))
    .toJSON();
  for (const criterion of ["gini2", "toString", "__proto__", 3]) {
    const json = structuredClone(tree);
    (json.fitted as Json).criterion = criterion;
    assert.throws(
      () => DecisionTreeClassifier.fromJSON(json),
      /"json\.fitted\.criterion" to be a known criterion/,
    );
  }
  const xgb = (await new XGBRegressor({ backend: "js", nEstimators: 1 }).fit(X, y)).toJSON();
  const json = structuredClone(xgb);
  (json.fitted as Json).objective = "constructor";
  assert.throws(
    () => XGBRegressor.fromJSON(json),
    /"json\.fitted\.objective" to be a known objective/,
  );
  const classes = structuredClone(tree);
  (classes.fitted as Json).classes = [1, 0];
  assert.throws(
    () => DecisionTreeClassifier.fromJSON(classes),
    /"json\.fitted\.classes" to be increasing/,
  );
});

Deno.test("linear models and meta-estimators refuse non-finite and inconsistent state", async () => {
  const ridge = (await new Ridge().fit(X, y)).toJSON();
  const holed = structuredClone(ridge);
  delete ((holed.fitted as Json).coef as unknown[])[1];
  assert.throws(() => Ridge.fromJSON(holed), {
    name: "TypeError",
    message: /"json\.fitted\.coef\[1\]"/,
  });
  const logistic = (await new LogisticRegression().fit(X, [0, 1, 0, 1, 0, 1])).toJSON();
  const big = structuredClone(logistic);
  (big.fitted as Json).classes = [0, 1e39];
  assert.throws(
    () => LogisticRegression.fromJSON(big),
    /"json\.fitted\.classes\[1\]" to be a finite float32/,
  );

  const ada = (await new AdaBoostClassifier({
    nEstimators: 2,
    estimator: new DecisionTreeClassifier({ backend: "js", maxDepth: 1 }),
  }).fit(X, [0, 1, 0, 1, 1, 1])).toJSON();
  const weights = structuredClone(ada);
  ((weights.fitted as Json).estimatorWeights as number[])[0] = 0;
  assert.throws(
    () => AdaBoostClassifier.fromJSON(weights),
    /"json\.fitted\.estimatorWeights\[0\]" to be positive/,
  );
  const unfitted = structuredClone(ada);
  ((unfitted.fitted as Json).estimators as Json[])[0].fitted = null;
  assert.throws(
    () => AdaBoostClassifier.fromJSON(unfitted),
    /"json\.fitted\.estimators\[0\]" to be a fitted estimator/,
  );
  const narrow = structuredClone(ada);
  (narrow.fitted as Json).nFeatures = 3;
  assert.throws(
    () => AdaBoostClassifier.fromJSON(narrow),
    /"json\.fitted\.estimators\[0\]" to take 3 features but found 2/,
  );
});

/** An XGBoost model object with one tree of three nodes. */
function xgbModel(overrides: { conditions?: unknown[]; base?: string; objective?: string } = {}) {
  return {
    learner: {
      learner_model_param: {
        base_score: overrides.base ?? "5E-1",
        num_class: "0",
        num_feature: "1",
      },
      objective: { name: overrides.objective ?? "reg:squarederror" },
      gradient_booster: {
        name: "gbtree",
        model: {
          trees: [{
            left_children: [1, -1, -1],
            right_children: [2, -1, -1],
            split_indices: [0, 0, 0],
            split_conditions: overrides.conditions ?? [0.5, -1, 1],
            default_left: [1, 0, 0],
          }],
          tree_info: [0],
        },
      },
    },
  };
}

Deno.test("fromXGBoostJSON() names the tree field of a non-finite leaf or threshold", () => {
  assert.throws(
    () => fromXGBoostJSON(xgbModel({ conditions: [0.5, -1, null] })),
    /"model\.trees\[0\]\.split_conditions\[2\]" to be a number but found null/,
  );
  assert.throws(
    () => fromXGBoostJSON(xgbModel({ conditions: [0.5, 1e39, 1] })),
    /"model\.trees\[0\]\.split_conditions\[1\]" to be a finite float32 but found 1e\+39/,
  );
  const text = JSON.stringify(xgbModel({ conditions: [0.5, -1, 7] })).replace("7]", "NaN]");
  assert.throws(() => fromXGBoostJSON(text), /"model\.trees\[0\]\.split_conditions\[2\]"/);
  const holed = xgbModel();
  // deno-lint-ignore no-sparse-arrays
  holed.learner.gradient_booster.model.trees[0].split_conditions = [0.5, , 1];
  assert.throws(
    () => fromXGBoostJSON(holed),
    /split_conditions\[1\]" to be a number but found undefined/,
  );
  // binary:logistic's margin of base_score 2 would be logit(2), NaN.
  assert.throws(
    () => fromXGBoostJSON(xgbModel({ base: "2", objective: "binary:logistic" })),
    {
      name: "RangeError",
      message: /"baseScore" to be in \(0, 1\) for a logistic objective but found 2/,
    },
  );
  const classes = xgbModel();
  (classes.learner.learner_model_param as Json).num_class = "1e9";
  (classes.learner.objective as Json).name = "multi:softprob";
  assert.throws(
    () => fromXGBoostJSON(classes),
    /"learner_model_param\.num_class" to be an integer in \[0, 65536\]/,
  );
});

Deno.test("fromXGBoostJSON() refuses UBJSON lengths beyond the data before allocating", () => {
  const bytes = loadUBJSON("shap_regression");
  // "[$d#l" + a count of 2^31 − 1 float32 values, then a 4-byte payload: refused at once.
  const huge = new Uint8Array([
    0x7b,
    0x55,
    0x01,
    0x61,
    0x5b,
    0x24,
    0x64,
    0x23,
    0x6c,
    0x7f,
    0xff,
    0xff,
    0xff,
    0,
    0,
    0,
    0,
    0x7d,
  ]);
  assert.throws(() => fromXGBoostJSON(huge), /an array claims 2147483647 elements/);
  // Elements of type Z (null) take no bytes: a count of 2^31 − 1 of them is refused too.
  const nulls = huge.slice();
  nulls[6] = 0x5a;
  assert.throws(() => fromXGBoostJSON(nulls), /an array claims 2147483647 elements/);
  const object = new Uint8Array([0x7b, 0x23, 0x6c, 0x7f, 0xff, 0xff, 0xff, 0x7d]);
  assert.throws(() => fromXGBoostJSON(object), /an object claims 2147483647 entries/);
  assert.throws(() => fromXGBoostJSON(bytes.subarray(0, bytes.length >> 1)), RangeError);
});

Deno.test("a split of present values from missing ones (threshold +∞) survives JSON text", async () => {
  const Xm = Array.from({ length: 16 }, (_, r) => [r % 4 === 0 ? NaN : r, r % 3]);
  const labels = Xm.map(([x]) => (Number.isNaN(x) ? 1 : 0));
  for (const C of [DecisionTreeClassifier, RandomForestClassifier] as const) {
    const model = await new C({ backend: "js" }).fit(Xm, labels);
    const json = model.toJSON();
    const thresholds = ((json.fitted as Json).model as Json).threshold as unknown[];
    assert.ok(thresholds.includes("Infinity"), `${C.name}: ${thresholds}`);
    const restored = C.fromJSON(JSON.parse(JSON.stringify(json)));
    assert.deepEqual(await restored.predict(Xm), await model.predict(Xm));
    // An object holding the number itself loads too; NaN never does.
    const object = structuredClone(json);
    const m = (object.fitted as Json).model as Json;
    m.threshold = thresholds.map((t) => (t === "Infinity" ? Infinity : t));
    assert.deepEqual(await C.fromJSON(object).predict(Xm), await model.predict(Xm));
    m.threshold = thresholds.map((t) => (t === "Infinity" ? NaN : t));
    assert.throws(() => C.fromJSON(object), /to be a finite number but found NaN/);
  }
});
