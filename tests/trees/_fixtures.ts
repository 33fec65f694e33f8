/** Loading of the fixtures written by tests/fixtures/make_trees_fixtures.py. */

const DIR = new URL("../fixtures/trees/", import.meta.url);

/** A model trained by XGBoost with its inputs and XGBoost's outputs. */
export interface ModelFixture {
  note: string;
  params: Record<string, unknown>;
  model: Record<string, unknown>;
  X: number[][];
  margin: number[];
  prediction: number[];
  shape: number[];
  classes?: number[];
  predictedLabels?: number[];
}

/** A bundled data set with reference scores. */
export interface DataFixture {
  name: string;
  task: "classification" | "regression";
  X: number[][];
  y: number[];
  fold: number[];
  references: {
    library: "xgboost" | "sklearn";
    params: Record<string, unknown>;
    cvScore: number;
    trainOutput: number[];
  }[];
}

const nulls = (rows: (number | null)[][]) => rows.map((r) => r.map((v) => (v === null ? NaN : v)));

/** Names of the XGBoost model fixtures (without prefix and extension). */
export function modelFixtureNames(): string[] {
  return [...Deno.readDirSync(DIR)]
    .filter((e) => e.name.startsWith("xgb_"))
    .map((e) => e.name.slice(4, -5))
    .sort();
}

export function loadModelFixture(name: string): ModelFixture {
  const fx = JSON.parse(Deno.readTextFileSync(new URL(`xgb_${name}.json`, DIR)));
  return { ...fx, X: nulls(fx.X) };
}

export function loadDataFixture(name: string): DataFixture {
  const fx = JSON.parse(Deno.readTextFileSync(new URL(`data_${name}.json`, DIR)));
  return { ...fx, X: nulls(fx.X) };
}

/** Rows of `fold` (test) or the others (train). */
export function split<T>(items: T[], fold: number[], k: number, test: boolean): T[] {
  return items.filter((_, i) => (fold[i] === k) === test);
}

const XGB_NAMES: Record<string, string> = {
  n_estimators: "nEstimators",
  max_depth: "maxDepth",
  learning_rate: "learningRate",
  max_bin: "maxBin",
  grow_policy: "growPolicy",
  max_leaves: "maxLeaves",
  reg_lambda: "regLambda",
  reg_alpha: "regAlpha",
  min_child_weight: "minChildWeight",
  gamma: "gamma",
  max_delta_step: "maxDeltaStep",
  objective: "objective",
};

/** Tessera options for XGBoost's scikit-learn parameters (the ones the fixtures use). */
export function xgbOptions(params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined) continue;
    if (key === "monotone_constraints") {
      out.monotoneConstraints = JSON.parse(`[${String(value).replace(/[()]/g, "")}]`);
    } else if (key in XGB_NAMES) out[XGB_NAMES[key]] = value;
  }
  return out;
}

/** Tessera options for scikit-learn GradientBoosting parameters. */
export function gbOptions(params: Record<string, unknown>): Record<string, unknown> {
  const names: Record<string, string> = {
    n_estimators: "nEstimators",
    max_depth: "maxDepth",
    learning_rate: "learningRate",
    loss: "loss",
    alpha: "alpha",
  };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) if (key in names) out[names[key]] = value;
  return out;
}

/** Mean over the 5 folds of a score of test predictions. */
export async function crossValidate(
  data: DataFixture,
  make: () => {
    fit(X: number[][], y: number[]): Promise<unknown>;
    predict(X: number[][]): Promise<Float32Array>;
  },
  score: (predicted: Float32Array, actual: number[]) => number,
): Promise<number> {
  let total = 0;
  for (let k = 0; k < 5; k++) {
    const model = make();
    await model.fit(split(data.X, data.fold, k, false), split(data.y, data.fold, k, false));
    total += score(
      await model.predict(split(data.X, data.fold, k, true)),
      split(data.y, data.fold, k, true),
    );
  }
  return total / 5;
}

/** Scores by the fixtures' metric names. */
export const SCORES: Record<
  string,
  (params: Record<string, unknown>) => (p: Float32Array, y: number[]) => number
> = {
  accuracy: () => (p, y) => y.filter((v, i) => v === p[i]).length / y.length,
  rmse: () => (p, y) => Math.sqrt(y.reduce((s, v, i) => s + (p[i] - v) ** 2, 0) / y.length),
  mae: () => (p, y) => y.reduce((s, v, i) => s + Math.abs(p[i] - v), 0) / y.length,
  pinball: (params) => {
    const alpha = (params.alpha as number | undefined) ?? 0.9;
    return (p, y) =>
      y.reduce((s, v, i) => s + Math.max(alpha * (v - p[i]), (alpha - 1) * (v - p[i])), 0) /
      y.length;
  },
};

/** XGBoost training runs on features with few distinct values (see the fixture script). */
export interface ParityFixture {
  diabetes: { X: number[][]; y: number[] };
  cases: {
    name: string;
    data: "diabetes" | "wine";
    target: string;
    params: Record<string, unknown>;
    weights: number[] | null;
    output: number[];
  }[];
}

export function loadParityFixture(): ParityFixture {
  const fx = JSON.parse(Deno.readTextFileSync(new URL("train_parity.json", DIR)));
  fx.diabetes.X = nulls(fx.diabetes.X);
  return fx;
}

/** The targets named in the parity fixture. */
export const TARGETS: Record<string, (y: number) => number> = {
  "y": (y) => y,
  "y/100": (y) => y / 100,
  "round(y/10)": (y) => Math.round(y / 10),
  "(y-25)/322": (y) => (y - 25) / 322,
  "y==1": (y) => (y === 1 ? 1 : 0),
};
