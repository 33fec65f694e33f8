import assert from "node:assert/strict";
import {
  DecisionTreeRegressor,
  GradientBoostingClassifier,
  GradientBoostingRegressor,
  RandomForestRegressor,
  XGBClassifier,
  XGBRegressor,
} from "../../src/trees/mod.ts";
import { Ridge } from "../../src/mod.ts";
import { encodeClasses } from "../../src/estimators/_input.ts";
import { Rng } from "../../src/_random.ts";

const X = [[0, 1], [1, 0], [2, 1], [3, 0], [4, 1], [5, 0]];
const y = [0, 0, 1, 1, 0, 1];

// deno-lint-ignore no-explicit-any
type Any = any;
const ESTIMATORS: [string, (opts?: Record<string, unknown>) => Any][] = [
  ["XGBRegressor", (o = {}) => new XGBRegressor({ nEstimators: 2, backend: "js", ...o })],
  ["XGBClassifier", (o = {}) => new XGBClassifier({ nEstimators: 2, backend: "js", ...o })],
  [
    "GradientBoostingRegressor",
    (o = {}) => new GradientBoostingRegressor({ nEstimators: 2, backend: "js", ...o }),
  ],
  [
    "GradientBoostingClassifier",
    (o = {}) => new GradientBoostingClassifier({ nEstimators: 2, backend: "js", ...o }),
  ],
];

Deno.test("tree estimators reject bad X and y with named errors", async () => {
  for (const [name, make] of ESTIMATORS) {
    const fit = (x: unknown, t: unknown, opts?: unknown) => make().fit(x, t, opts);
    await assert.rejects(fit(X, y.slice(1)), {
      name: "RangeError",
      message: /"y" to have 6 entries but found 5/,
    }, name);
    await assert.rejects(fit(X, [0, 0, NaN, 1, 0, 1]), {
      name: "RangeError",
      message: /"y".*entry 2 is NaN/,
    }, name);
    await assert.rejects(fit(X, [0, 0, Infinity, 1, 0, 1]), {
      name: "RangeError",
      message: /entry 2 is Infinity/,
    }, name);
    await assert.rejects(fit(X, [0, 0, -Infinity, 1, 0, 1]), {
      name: "RangeError",
      message: /-Infinity/,
    }, name);
    await assert.rejects(fit([], []), {
      name: "RangeError",
      message: /"X" to have at least one row/,
    }, name);
    await assert.rejects(
      fit({ data: new Float32Array(0), shape: [0, 2] }, []),
      /at least one row/,
      name,
    );
    await assert.rejects(fit([[], []], [0, 1]), /"X" to have at least one column/, name);
    await assert.rejects(
      fit([[0, 1], [1]], [0, 1]),
      { name: "RangeError", message: /row 1/ },
      name,
    );
    await assert.rejects(fit([[0, Infinity], [1, 2]], [0, 1]), {
      name: "RangeError",
      message: /row 0, column 1 is Infinity/,
    }, name);
    // −∞ after a NaN (a missing value, accepted): the first infinite entry is named.
    await assert.rejects(fit([[0, 1], [NaN, 2], [3, -Infinity]], [0, 1, 0]), {
      name: "RangeError",
      message: /finite numbers or NaN \(missing\) but row 2, column 1 is -Infinity/,
    }, name);
    await assert.rejects(fit("X", y), { name: "TypeError" }, name);
    await assert.rejects(fit(X, "y"), { name: "TypeError", message: /"y"/ }, name);
    await assert.rejects(
      fit(X, y, { sampleWeight: [1, 1, 1] }),
      /"sampleWeight" to have 6 entries/,
      name,
    );
    await assert.rejects(fit(X, y, { sampleWeight: [1, 1, -1, 1, 1, 1] }), /weights >= 0/, name);
    await assert.rejects(fit(X, y, { sampleWeight: [0, 0, 0, 0, 0, 0] }), /positive sum/, name);
    await assert.rejects(fit(X, y, { sampleWieght: [1, 1, 1, 1, 1, 1] }), {
      name: "RangeError",
      message: /Unknown option "sampleWieght"/,
    }, name);
    await assert.rejects(fit(X, y, { onProgress: 3 }), {
      name: "TypeError",
      message: /"onProgress"/,
    }, name);
  }
});

Deno.test("encodeClasses() gives the same classes and indices by table as by Set and sort", () => {
  // Whole labels in [0, 65536) take the table; the others (fractions, negatives, −0 first, large
  // values) the general path. Both sort the distinct labels ascending, −0 kept as first seen.
  const general = (labels: number[]) => {
    const classes = Float64Array.from(new Set(labels)).sort();
    return { classes, encoded: Float64Array.from(labels, (v) => classes.indexOf(v)) };
  };
  const cases = [
    [2, 0, 5, 2, 0, 65535],
    [1, 1, 0],
    [3, 7],
    [0.5, 2, 0.5],
    [-1, 4, 4],
    [-0, 1, 0],
    [0, 1, -0],
    [65536, 1],
  ];
  for (const labels of cases) {
    const actual = encodeClasses("y", Float64Array.from(labels));
    const expected = general(labels);
    assert.deepEqual(actual.classes, expected.classes, `classes of ${labels}`);
    assert.deepEqual(actual.encoded, expected.encoded, `indices of ${labels}`);
    assert.ok(Object.is(actual.classes[0], expected.classes[0]), `first class of ${labels}`);
  }
  assert.throws(() => encodeClasses("y", Float64Array.from([3, 3])), /at least two classes/);
});

Deno.test("tree classifiers need at least two classes", async () => {
  for (const [name, make] of ESTIMATORS.filter(([n]) => n.endsWith("Classifier"))) {
    await assert.rejects(make().fit(X, [4, 4, 4, 4, 4, 4]), {
      name: "RangeError",
      message: /at least two classes but found only 4/,
    }, name);
  }
});

Deno.test("tree estimators reject unknown and out-of-range options at fit", async () => {
  const bad: [Record<string, unknown>, RegExp, string][] = [
    [{ maxDepht: 3 }, /Unknown option "maxDepht"/, "RangeError"],
    [{ maxDepth: -1 }, /"maxDepth" to be an integer >= 0/, "RangeError"],
    [{ maxDepth: 2.5 }, /"maxDepth" to be an integer/, "TypeError"],
    [{ learningRate: 0 }, /"learningRate" to be a finite number > 0/, "RangeError"],
    [{ subsample: 1.5 }, /"subsample"/, "RangeError"],
    [{ maxBin: 300 }, /"maxBin" to be an integer >= 2 and <= 256 but found 300/, "RangeError"],
    [{ nEstimators: 0 }, /"nEstimators"/, "RangeError"],
    [{ seed: -1 }, /"seed"/, "RangeError"],
    [{ backend: "cuda" }, /"backend"/, "RangeError"],
  ];
  for (const [name, make] of ESTIMATORS) {
    for (const [opts, message, type] of bad) {
      await assert.rejects(
        make(opts).fit(X, y),
        { name: type, message },
        `${name} ${JSON.stringify(opts)}`,
      );
    }
  }
  const xgbOnly: [Record<string, unknown>, RegExp][] = [
    [{ objective: "reg:gamma" }, /"objective" to be one of/],
    [{ regLambda: -1 }, /"regLambda"/],
    [{ colsampleBytree: 0 }, /"colsampleBytree"/],
    [{ growPolicy: "breadth" }, /"growPolicy"/],
    [{ evalMetric: "f1" }, /"evalMetric"/],
    [{ importanceType: "split" }, /"importanceType"/],
    [{ monotoneConstraints: [2, 0] }, /"monotoneConstraints"/],
    [{ maxDepth: 0 }, /"maxDepth" >= 1 or "maxLeaves" >= 1/],
  ];
  for (const [opts, message] of xgbOnly) {
    await assert.rejects(new XGBRegressor(opts).fit(X, y), message, JSON.stringify(opts));
  }
  await assert.rejects(
    new XGBClassifier({ objective: "reg:squarederror" }).fit(X, y),
    /"objective"/,
  );
  await assert.rejects(
    new XGBClassifier({ objective: "binary:logistic" }).fit(X, [0, 1, 2, 0, 1, 2]),
    /multi: objective for 3 classes/,
  );
  await assert.rejects(
    new XGBRegressor({ objective: "reg:logistic" }).fit(X, [0, 2, 1, 0, 1, 1]),
    /\[0, 1\]/,
  );
  await assert.rejects(
    new XGBRegressor({ objective: "count:poisson" }).fit(X, [0, -2, 1, 0, 1, 1]),
    /non-negative/,
  );
  await assert.rejects(new GradientBoostingRegressor({ loss: "log_loss" }).fit(X, y), /"loss"/);
  await assert.rejects(new GradientBoostingClassifier({ loss: "huber" }).fit(X, y), /"loss"/);
  await assert.rejects(
    new GradientBoostingRegressor({ minSamplesLeaf: 0 }).fit(X, y),
    /"minSamplesLeaf"/,
  );
  await assert.rejects(
    new GradientBoostingRegressor({ maxFeatures: "half" as never }).fit(X, y),
    /"maxFeatures"/,
  );
  await assert.rejects(new GradientBoostingRegressor({ alpha: 1 }).fit(X, y), /"alpha"/);
});

Deno.test("XGB estimators check the evaluation set and early stopping", async () => {
  const model = new XGBClassifier({ nEstimators: 3, backend: "js" });
  await assert.rejects(model.fit(X, y, { earlyStoppingRounds: 2 }), /"evalSet" to be given/);
  await assert.rejects(
    model.fit(X, y, { evalSet: [X, y], earlyStoppingRounds: 0 }),
    /"earlyStoppingRounds"/,
  );
  await assert.rejects(model.fit(X, y, { evalSet: [X] as never }), {
    name: "TypeError",
    message: /pair \[X, y\]/,
  });
  await assert.rejects(
    model.fit(X, y, { evalSet: [[[1, 2, 3]], [0]] }),
    /"evalSet\[0\]" to have 2 columns/,
  );
  await assert.rejects(
    model.fit(X, y, { evalSet: [[[1, 2]], [7]] }),
    /"evalSet\[1\]" to hold only the classes seen at fit but entry 0 is 7/,
  );
});

Deno.test("tree estimators refuse to predict before fit or with the wrong feature count", async () => {
  for (const [name, make] of ESTIMATORS) {
    const model = make();
    await assert.rejects(model.predict(X), {
      name: "RangeError",
      message: new RegExp(`This ${name} is not fitted yet`),
    });
    assert.throws(() => model.featureImportances, /not fitted/);
    await model.fit(X, y);
    await assert.rejects(model.predict([[1, 2, 3]]), {
      name: "RangeError",
      message: /"X" to have 2 columns \(as at fit\) but found 3/,
    }, name);
    if (model.predictProba) await assert.rejects(model.predictProba([[1]]), /2 columns/, name);
    await assert.rejects(model.predict([[1, -Infinity]]), /-Infinity/, name);
    assert.equal((await model.predict([[1, NaN]])).length, 1, `${name} takes NaN as missing`);
  }
});

Deno.test("a failed fit leaves the previous model in place", async () => {
  for (const [name, make] of ESTIMATORS) {
    const model = await make().fit(X, y);
    const before = await model.predict(X);
    await assert.rejects(model.fit(X, [0, 1]), RangeError);
    assert.deepEqual(await model.predict(X), before, name);
  }
});

Deno.test("tree estimators take Tensors and arrays alike", async () => {
  const tensor = { data: Float32Array.from(X.flat()), shape: [6, 2] };
  for (const [name, make] of ESTIMATORS) {
    const a = await (await make().fit(X, y)).predict(X);
    const b = await (await make().fit(tensor, Float64Array.from(y))).predict(tensor);
    assert.deepEqual(a, b, name);
  }
});

Deno.test("targets beyond float32's range are refused by name; large ones give models that save and load", async () => {
  // Found by tests/trees/property_test.ts: y = 1e300 trained models predicting NaN and ±∞, and
  // y = 1e30 trained models whose split gains (squares of gradient sums) overflowed float32, so
  // toJSON() wrote null and fromJSON() refused the model it had just written.
  const makers: [string, () => Any][] = [
    ...ESTIMATORS.filter(([name]) => name.endsWith("Regressor")).map(([n, make]) =>
      [n, () => make()] as [string, () => Any]
    ),
    ["DecisionTreeRegressor", () => new DecisionTreeRegressor({ backend: "js" })],
    ["RandomForestRegressor", () => new RandomForestRegressor({ nEstimators: 2, backend: "js" })],
    ["Ridge", () => new Ridge()],
  ];
  for (const [name, make] of makers) {
    await assert.rejects(make().fit(X, y.map((v) => (v ? 1e300 : -1))), (e: Error) => {
      assert.ok(e instanceof RangeError, name);
      assert.match(e.message, /"y" to hold numbers within float32's range .* entry 2 is 1e\+300/);
      return true;
    });
    const model = await make().fit(X, y.map((v, i) => (v ? 1e30 : -2e30) * (1 + i / 10)));
    const restored = model.constructor.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
    const before = await model.predict(X), after = await restored.predict(X);
    assert.ok(before.every(Number.isFinite), name);
    assert.deepEqual(after, before, name);
  }
});

Deno.test("boosters refuse targets whose trees could add up beyond float32's range, and keep their model", async () => {
  // Found by tests/trees/property_test.ts's probes: y within float32's range but near its
  // largest value trained boosters predicting ±∞ on finite rows (training rows among them), and
  // fromJSON refused the model toJSON wrote.
  const rng = new Rng(3);
  const rows = Array.from({ length: 200 }, () => [rng.next(), rng.next(), rng.next()]);
  const huge = rows.map(([a, b, c]) =>
    (a > 0.5 ? 3.3e38 : -3.3e38) * (b > 0.5 ? 1 : -0.9) * (c > 0.3 ? 1 : 0.5)
  );
  const makers: [string, () => Any][] = [
    ["XGBRegressor", () => new XGBRegressor({ nEstimators: 30, learningRate: 1, backend: "js" })],
    [
      "GradientBoostingRegressor",
      () =>
        new GradientBoostingRegressor({
          nEstimators: 30,
          loss: "huber",
          learningRate: 0.5,
          backend: "js",
        }),
    ],
  ];
  for (const [name, make] of makers) {
    const model = await make().fit(rows, rows.map(([a]) => a * 2));
    const before = JSON.stringify(model.toJSON());
    await assert.rejects(model.fit(rows, huge), (e: Error) => {
      assert.ok(e instanceof RangeError, name);
      assert.match(e.message, /"y" to be small enough .* float32's range/, name);
      return true;
    });
    assert.equal(JSON.stringify(model.toJSON()), before, `${name} kept its model`);
    // Large targets that stay clear of the limit still train models that predict finite numbers.
    const scaled = await make().fit(rows, huge.map((v) => v / 1e8));
    assert.ok((await scaled.predict(rows)).every(Number.isFinite), name);
  }
});

Deno.test("Ridge refuses NaN and ±Infinity in X, naming the first one's row and column", async () => {
  const ridge = () => new Ridge();
  for (const [bad, shown] of [[NaN, "NaN"], [-Infinity, "-Infinity"], [Infinity, "Infinity"]]) {
    const X = [[0, 1], [1, 0], [2, 1], [3, bad as number]];
    await assert.rejects(ridge().fit(X, [0, 1, 2, 3]), {
      name: "RangeError",
      message: new RegExp(`"X" to hold finite numbers but row 3, column 1 is ${shown}`),
    });
  }
});
