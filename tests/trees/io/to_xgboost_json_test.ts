import assert from "node:assert/strict";
import { fromXGBoostJSON, XGBClassifier, XGBRegressor } from "../../../src/trees/mod.ts";
import { Rng } from "../../../src/_random.ts";
import { loadModelFixture } from "../_fixtures.ts";
import { loadExplainFixture, loadUBJSON, SHAP_CASES } from "../_explain_fixtures.ts";

type XGBModel = XGBClassifier | XGBRegressor;

/** Why the XGBoost round trip cannot run here, or null when Debian's python3-xgboost is there. */
async function xgboostMissing(): Promise<string | null> {
  try {
    const probe = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import xgboost"],
      stdout: "null",
      stderr: "null",
    }).output();
    return probe.success ? null : "python3 has no xgboost (apt-get install python3-xgboost)";
  } catch {
    return "no /usr/bin/python3 (apt-get install python3-xgboost)";
  }
}
const missing = await xgboostMissing();
if (missing !== null) console.warn(`Skipping XGBoost round trips: ${missing}`);

/** XGBoost's own margins and predictions for each (model text, rows) pair. */
async function xgboostPredicts(
  cases: { text: string; X: number[][] }[],
): Promise<{ margin: number[]; prediction: number[] }[]> {
  const dir = await Deno.makeTempDir();
  try {
    const list = await Promise.all(cases.map(async (c, i) => {
      const model = `${dir}/model_${i}.json`;
      await Deno.writeTextFile(model, c.text);
      return { model, X: c.X.map((r) => r.map((v) => (Number.isNaN(v) ? null : v))) };
    }));
    await Deno.writeTextFile(`${dir}/cases.json`, JSON.stringify(list));
    const script = new URL("./_xgboost_predict.py", import.meta.url).pathname;
    const run = await new Deno.Command("/usr/bin/python3", {
      args: [script, `${dir}/cases.json`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!run.success) throw new Error(new TextDecoder().decode(run.stderr));
    return JSON.parse(new TextDecoder().decode(run.stdout)).results;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function maxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  }
  return worst;
}

function data(seed: number, n: number, d: number, missingRate = 0.1): number[][] {
  const rng = new Rng(seed);
  return Array.from(
    { length: n },
    () => Array.from({ length: d }, () => (rng.next() < missingRate ? NaN : rng.next() * 4 - 2)),
  );
}

/** Models trained here with several objectives, and models XGBoost trained. */
async function models(): Promise<{ name: string; model: XGBModel; X: number[][] }[]> {
  const X = data(1, 300, 4);
  const signal = X.map((r) => (r[0] || 0) - 0.5 * (r[2] || 0) + (r[1] > 0 ? 1 : 0));
  const opts = { nEstimators: 8, maxDepth: 3, seed: 1 };
  const out: { name: string; model: XGBModel; X: number[][] }[] = [
    { name: "regression", model: await new XGBRegressor(opts).fit(X, signal), X },
    {
      name: "binary, labels 3 and 7",
      model: await new XGBClassifier(opts).fit(X, signal.map((s) => (s > 0.3 ? 7 : 3))),
      X,
    },
    {
      name: "multiclass",
      model: await new XGBClassifier(opts).fit(
        X,
        signal.map((s) => (s < -0.5 ? 0 : s < 0.8 ? 1 : 2)),
      ),
      X,
    },
    {
      name: "poisson",
      model: await new XGBRegressor({ ...opts, objective: "count:poisson" })
        .fit(X, signal.map((s) => Math.round(Math.exp(s / 2)))),
      X,
    },
    {
      name: "absoluteerror",
      model: await new XGBRegressor({ ...opts, objective: "reg:absoluteerror" }).fit(X, signal),
      X,
    },
    {
      name: "logistic, base score 0.3",
      model: await new XGBClassifier({ ...opts, baseScore: 0.3 })
        .fit(X, signal.map((s) => (s > 0 ? 1 : 0))),
      X,
    },
  ];
  for (const name of ["dart", "missing", "pseudohuber", "softmax", "logitraw"]) {
    const fx = loadModelFixture(name);
    out.push({ name: `imported ${name}`, model: fromXGBoostJSON(fx.model), X: fx.X });
  }
  const categorical = loadExplainFixture("categorical");
  out.push({
    name: "imported categorical",
    model: fromXGBoostJSON(categorical.model),
    X: categorical.X,
  });
  return out;
}

Deno.test({
  name: "toXGBoostJSON() writes models that XGBoost loads and predicts identically",
  ignore: missing !== null,
  async fn() {
    const cases = await models();
    const texts = cases.map((c) => c.model.toXGBoostJSON());
    const answers = await xgboostPredicts(cases.map((c, i) => ({ text: texts[i], X: c.X })));
    for (const [i, { name, model, X }] of cases.entries()) {
      const margin = await model.predictMargin(X);
      assert.ok(maxError(margin.data, answers[i].margin) <= 1e-6, `${name}: margins differ`);
      const objective = (JSON.parse(texts[i]).learner.objective.name) as string;
      if (model instanceof XGBRegressor) {
        const y = await model.predict(X);
        assert.ok(maxError(y, answers[i].prediction) <= 1e-6, `${name}: predictions differ`);
      } else if (objective === "multi:softmax") {
        const labels = await model.predict(X);
        assert.deepEqual(Array.from(labels), answers[i].prediction, name);
      } else if (objective === "multi:softprob") {
        const proba = await model.predictProba(X);
        assert.ok(maxError(proba.data, answers[i].prediction) <= 1e-6, name);
      } else if (objective === "binary:logistic") {
        const proba = await model.predictProba(X);
        const positive = proba.data.filter((_, j) => j % 2 === 1);
        assert.ok(maxError(positive, answers[i].prediction) <= 1e-6, name);
      }
    }
  },
});

Deno.test("toXGBoostJSON() round-trips through fromXGBoostJSON with classes and margins", async () => {
  for (const { name, model, X } of await models()) {
    const back = fromXGBoostJSON(model.toXGBoostJSON());
    assert.equal(back.constructor, model.constructor, name);
    const [a, b] = [await model.predictMargin(X), await back.predictMargin(X)];
    assert.ok(maxError(b.data, a.data) <= 1e-6, `${name}: margins differ`);
    if (model instanceof XGBClassifier) {
      assert.deepEqual(Array.from((back as XGBClassifier).classes), Array.from(model.classes));
      assert.deepEqual(Array.from(await back.predict(X)), Array.from(await model.predict(X)));
    }
  }
});

Deno.test("toXGBoostJSON() throws before fit", () => {
  assert.throws(() => new XGBRegressor().toXGBoostJSON(), RangeError);
});

Deno.test("fromXGBoostJSON() reads UBJSON bytes and JSON text bytes as the JSON model", async () => {
  for (const name of SHAP_CASES) {
    const fx = loadExplainFixture(name);
    const fromText = fromXGBoostJSON(fx.model);
    const fromUbj = fromXGBoostJSON(loadUBJSON(name));
    const fromBytes = fromXGBoostJSON(new TextEncoder().encode(fx.model));
    const expected = fx.margin.map(Math.fround);
    for (const model of [fromText, fromUbj, fromBytes]) {
      const margin = await model.predictMargin(fx.X);
      assert.deepEqual(Array.from(margin.data), expected, name);
    }
  }
});

Deno.test("fromXGBoostJSON() refuses bytes that are neither UBJSON nor JSON", () => {
  const ubj = loadUBJSON("shap_regression");
  assert.throws(() => fromXGBoostJSON(ubj.subarray(0, 100)), /UBJSON but the data ends too early/);
  assert.throws(() => fromXGBoostJSON(Uint8Array.of(0xff, 0xfe)), /UBJSON or UTF-8 JSON text/);
  assert.throws(() => fromXGBoostJSON(new TextEncoder().encode("[1]")), TypeError);
});
