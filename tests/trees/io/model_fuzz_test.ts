/**
 * Mutation fuzzing of saved models: the `toJSON()` of every estimator, XGBoost JSON models (as
 * objects and as text) and XGBoost UBJSON bytes, each mutated many times by a seeded mutator.
 * Every mutant must either be refused with a TypeError/RangeError, or load and then predict
 * only finite numbers (or refuse the rows with a clear error, when the mutant's feature count
 * no longer matches them). `TESSERA_FUZZ_RUNS` sets the mutations per model (npm run soak
 * raises it).
 */
import assert from "node:assert/strict";
import {
  AdaBoostClassifier,
  AdaBoostRegressor,
  BaggingClassifier,
  BaggingRegressor,
  DecisionTreeClassifier,
  DecisionTreeRegressor,
  fromXGBoostJSON,
  GradientBoostingClassifier,
  GradientBoostingRegressor,
  LogisticRegression,
  RandomForestClassifier,
  RandomForestRegressor,
  Ridge,
  StackingClassifier,
  StackingRegressor,
  XGBClassifier,
  XGBRegressor,
} from "../../../src/mod.ts";
import type { Tensor } from "../../../src/tensor.ts";
import { loadExplainFixture, loadUBJSON } from "../_explain_fixtures.ts";

const RUNS = Number(Deno.env.get("TESSERA_FUZZ_RUNS") ?? 200);

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = unknown;
type Container = Record<string, unknown> | unknown[];
interface Site {
  parent: Container;
  key: string | number;
}

/** Every (parent, key) of a JSON value, depth first. */
function sites(value: Json, out: Site[] = []): Site[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push({ parent: value, key: i });
      sites(v, out);
    });
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.push({ parent: value as Record<string, unknown>, key: k });
      sites(v, out);
    }
  }
  return out;
}

const SPECIALS = [
  NaN,
  Infinity,
  -Infinity,
  null,
  1e308,
  -1e308,
  3.4e39,
  2 ** 31,
  2 ** 53,
  -1,
  -2,
  0,
  0.5,
  1e-45,
  "1",
  "NaN",
  true,
  [],
  {},
];

/** One mutation of a JSON value in place; returns what it did. */
function mutate(root: Json, random: () => number): string {
  const all = sites(root);
  // Numbers are where models go wrong: pick them more often.
  const numeric = all.filter((s) =>
    typeof (s.parent as Record<string, unknown>)[s.key] === "number"
  );
  const pool = numeric.length > 0 && random() < 0.7 ? numeric : all;
  const site = pool[Math.floor(random() * pool.length)];
  const parent = site.parent as Record<string | number, unknown>;
  const old = parent[site.key];
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const kind = Math.floor(random() * 8);
  switch (kind) {
    case 0:
    case 1:
      parent[site.key] = pick(SPECIALS);
      return `set ${String(site.key)} to ${String(parent[site.key])}`;
    case 2:
      if (typeof old === "number") {
        parent[site.key] = pick([
          -old,
          old + 0.5,
          old * 1e30,
          old + 1,
          old - 1,
          Math.fround(old) * 3,
        ]);
        return `scale ${String(site.key)}`;
      }
      parent[site.key] = pick(SPECIALS);
      return `set ${String(site.key)}`;
    case 3:
      if (Array.isArray(parent)) {
        delete parent[site.key as number]; // a hole
        return `hole at ${String(site.key)}`;
      }
      delete parent[site.key];
      return `delete ${String(site.key)}`;
    case 4:
      if (Array.isArray(old)) {
        old.length = Math.floor(random() * old.length);
        return `truncate ${String(site.key)}`;
      }
      if (Array.isArray(parent)) {
        parent.length = Number(site.key);
        return `truncate at ${String(site.key)}`;
      }
      delete parent[site.key];
      return `delete ${String(site.key)}`;
    case 5:
      // Swap types.
      parent[site.key] = Array.isArray(old)
        ? { ...old }
        : old !== null && typeof old === "object"
        ? Object.values(old)
        : typeof old === "number"
        ? String(old)
        : typeof old === "string"
        ? pick([Number(old), [old], null])
        : pick(SPECIALS);
      return `retype ${String(site.key)}`;
    case 6:
      if (Array.isArray(old)) {
        old.push(pick(SPECIALS));
        return `extend ${String(site.key)}`;
      }
      if (Array.isArray(parent)) {
        parent.push(old);
        return `extend parent of ${String(site.key)}`;
      }
      parent[site.key] = pick(SPECIALS);
      return `set ${String(site.key)}`;
    default:
      // Copy another number of the model here (indices pointing elsewhere, cycles).
      if (numeric.length > 0) {
        const other = pick(numeric);
        parent[site.key] = (other.parent as Record<string | number, unknown>)[other.key];
        return `copy into ${String(site.key)}`;
      }
      parent[site.key] = pick(SPECIALS);
      return `set ${String(site.key)}`;
  }
}

/** One to three mutations of a deep copy. */
function mutant(json: Json, random: () => number): { value: Json; what: string } {
  const value = structuredClone(json);
  const what: string[] = [];
  const n = 1 + Math.floor(random() * random() * 3);
  for (let i = 0; i < n; i++) what.push(mutate(value, random));
  return { value, what: what.join("; ") };
}

/** UBJSON bytes with one corruption. */
function corruptBytes(
  bytes: Uint8Array,
  random: () => number,
): { value: Uint8Array; what: string } {
  const out = bytes.slice();
  const at = Math.floor(random() * out.length);
  switch (Math.floor(random() * 5)) {
    case 0:
      return { value: out.subarray(0, at), what: `truncated at ${at}` };
    case 1:
      out[at] = Math.floor(random() * 256);
      return { value: out, what: `byte ${at} random` };
    case 2: {
      // A huge length or count after a length marker: l (int32) or L (int64).
      const marks: number[] = [];
      for (let i = 0; i + 5 <= out.length; i++) {
        if (out[i] === 0x6c || out[i] === 0x23) marks.push(i);
      }
      const i = marks.length > 0 ? marks[Math.floor(random() * marks.length)] : at;
      const view = new DataView(out.buffer);
      if (out[i] === 0x23 && i + 6 <= out.length) {
        out[i + 1] = 0x6c;
        view.setInt32(i + 2, random() < 0.5 ? 0x7fffffff : 0x40000000);
      } else if (i + 5 <= out.length) view.setInt32(i + 1, random() < 0.5 ? 0x7fffffff : -1);
      return { value: out, what: `huge length near ${i}` };
    }
    case 3:
      out[at] =
        [0x00, 0x5b, 0x7b, 0x5d, 0x7d, 0x24, 0x23, 0x4e, 0x48, 0x4c][Math.floor(random() * 10)];
      return { value: out, what: `marker at ${at}` };
    default: {
      // A float32 payload becomes NaN or ±Infinity: find a "d" marker.
      const ds: number[] = [];
      for (let i = 0; i + 5 <= out.length; i++) if (out[i] === 0x64) ds.push(i);
      if (ds.length === 0) return { value: out.subarray(0, at), what: `truncated at ${at}` };
      const i = ds[Math.floor(random() * ds.length)];
      new DataView(out.buffer).setFloat32(
        i + 1,
        [NaN, Infinity, -Infinity][Math.floor(random() * 3)],
      );
      return { value: out, what: `float near ${i}` };
    }
  }
}

interface Loaded {
  predict(X: number[][]): Promise<Float32Array | Float64Array | Tensor>;
  predictProba?(X: number[][]): Promise<Tensor>;
}

interface Tally {
  /** Linear outputs that overflowed float32 because the mutant holds huge coefficients. */
  overflowed: number;
  refused: number;
  loaded: number;
  refusedRows: number;
  nonFinite: string[];
  wrongError: string[];
}

function dataOf(out: Float32Array | Float64Array | Tensor): ArrayLike<number> {
  return ArrayBuffer.isView(out) ? out as Float32Array : (out as Tensor).data;
}

/** The largest |number| in a JSON value. */
function largest(value: Json): number {
  if (typeof value === "number") return Number.isFinite(value) ? Math.abs(value) : 0;
  if (value === null || typeof value !== "object") return 0;
  let m = 0;
  for (const v of Object.values(value)) m = Math.max(m, largest(v));
  return m;
}

/**
 * Whether a linear model (or a stacking of them, two layers) holding numbers no larger than
 * `m` in magnitude may compute an output beyond float32's range on rows X: then ±∞ (or NaN
 * from ∞ − ∞) is IEEE arithmetic on finite numbers, not a model that should have been refused.
 */
function linearCanOverflow(m: number, X: number[][]): boolean {
  const cols = X[0].length;
  const xMax = Math.max(1, ...X.flat().map(Math.abs));
  const layer = (input: number, width: number) => Math.max(1, m) * (width * input + 1);
  return layer(layer(xMax, cols), cols + 8) > 3.4e38;
}

/** Loads one mutant and predicts; records the outcome. */
async function trial(
  load: () => Loaded,
  X: number[][],
  what: string,
  tally: Tally,
  overflowAllowed = false,
) {
  let model: Loaded;
  try {
    model = load();
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) tally.refused++;
    else tally.wrongError.push(`${what}: ${error}`);
    return;
  }
  tally.loaded++;
  try {
    const outputs = [dataOf(await model.predict(X))];
    if (typeof model.predictProba === "function") outputs.push(dataOf(await model.predictProba(X)));
    for (const out of outputs) {
      for (let i = 0; i < out.length; i++) {
        if (!Number.isFinite(out[i])) {
          if (overflowAllowed) {
            tally.overflowed++;
            return;
          }
          tally.nonFinite.push(`${what}: output ${i} is ${out[i]}`);
          return;
        }
      }
    }
  } catch (error) {
    // A mutant whose feature count changed refuses the rows, which is a clear error too.
    if (error instanceof RangeError || error instanceof TypeError) tally.refusedRows++;
    else tally.wrongError.push(`${what} (predict): ${error}`);
  }
}

function report(name: string, tally: Tally) {
  console.log(
    `${name}: ${tally.loaded} loaded (${tally.refusedRows} then refused the rows${
      tally.overflowed > 0 ? `, ${tally.overflowed} overflowed float32 on huge coefficients` : ""
    }), ${tally.refused} refused, ${tally.nonFinite.length} predicted non-finite values`,
  );
  assert.deepEqual(tally.wrongError, [], `${name}: errors other than TypeError/RangeError`);
  assert.deepEqual(tally.nonFinite, [], `${name}: mutants that loaded and predicted NaN/±∞`);
}

const X = [
  [0.1, 1.2, -0.3, 2.5],
  [1.5, -0.7, 0.8, 0.1],
  [-1.1, 0.4, 1.9, -2.2],
  [0.6, 2.1, -1.4, 0.9],
  [2.2, -1.8, 0.2, 1.3],
  [-0.4, -0.2, -0.9, -0.5],
  [1.0, 0.9, 1.1, -1.6],
  [-2.0, 1.6, 0.5, 0.7],
];
const yClass = [0, 1, 0, 1, 1, 0, 1, 0];
const yMulti = [0, 1, 2, 1, 2, 0, 1, 2];
const yReal = [0.5, -1.2, 2.3, 0.1, 1.7, -0.4, 0.9, -2.1];
/** Rows with missing values and values far out of range. */
const XPredict = [...X, [NaN, NaN, NaN, NaN], [1e30, -1e30, 3.4e38, -3.4e38]];

const opts = { backend: "js" as const };
const ESTIMATORS: [string, () => Promise<{ toJSON(): unknown }>, (json: object) => Loaded][] = [
  [
    "DecisionTreeClassifier",
    () => new DecisionTreeClassifier({ ...opts, maxDepth: 3 }).fit(X, yMulti),
    DecisionTreeClassifier.fromJSON,
  ],
  [
    "DecisionTreeRegressor",
    () => new DecisionTreeRegressor({ ...opts, maxDepth: 3 }).fit(X, yReal),
    DecisionTreeRegressor.fromJSON,
  ],
  [
    "RandomForestClassifier",
    () => new RandomForestClassifier({ ...opts, nEstimators: 3, maxDepth: 2 }).fit(X, yClass),
    RandomForestClassifier.fromJSON,
  ],
  [
    "RandomForestRegressor",
    () => new RandomForestRegressor({ ...opts, nEstimators: 3, maxDepth: 2 }).fit(X, yReal),
    RandomForestRegressor.fromJSON,
  ],
  [
    "GradientBoostingClassifier",
    () => new GradientBoostingClassifier({ ...opts, nEstimators: 3, maxDepth: 2 }).fit(X, yMulti),
    GradientBoostingClassifier.fromJSON,
  ],
  [
    "GradientBoostingRegressor",
    () => new GradientBoostingRegressor({ ...opts, nEstimators: 3, maxDepth: 2 }).fit(X, yReal),
    GradientBoostingRegressor.fromJSON,
  ],
  [
    "XGBClassifier",
    () => new XGBClassifier({ ...opts, nEstimators: 3, maxDepth: 2 }).fit(X, yClass),
    XGBClassifier.fromJSON,
  ],
  [
    "XGBRegressor",
    () => new XGBRegressor({ ...opts, nEstimators: 3, maxDepth: 2 }).fit(X, yReal),
    XGBRegressor.fromJSON,
  ],
  [
    "AdaBoostClassifier",
    () =>
      new AdaBoostClassifier({
        nEstimators: 3,
        estimator: new DecisionTreeClassifier({ ...opts, maxDepth: 1 }),
      }).fit(X, yMulti),
    AdaBoostClassifier.fromJSON,
  ],
  [
    "AdaBoostRegressor",
    () =>
      new AdaBoostRegressor({
        nEstimators: 3,
        estimator: new DecisionTreeRegressor({ ...opts, maxDepth: 2 }),
      }).fit(X, yReal),
    AdaBoostRegressor.fromJSON,
  ],
  [
    "BaggingClassifier",
    () =>
      new BaggingClassifier({
        nEstimators: 3,
        maxFeatures: 0.75,
        estimator: new DecisionTreeClassifier({ ...opts, maxDepth: 2 }),
      }).fit(X, yClass),
    BaggingClassifier.fromJSON,
  ],
  [
    "BaggingRegressor",
    () =>
      new BaggingRegressor({
        nEstimators: 3,
        estimator: new DecisionTreeRegressor({ ...opts, maxDepth: 2 }),
      }).fit(X, yReal),
    BaggingRegressor.fromJSON,
  ],
  [
    "StackingClassifier",
    () =>
      new StackingClassifier({
        estimators: [
          new DecisionTreeClassifier({ ...opts, maxDepth: 2 }),
          new LogisticRegression(),
        ],
        finalEstimator: new LogisticRegression(),
        cv: 2,
      }).fit(X, yClass),
    StackingClassifier.fromJSON,
  ],
  [
    "StackingRegressor",
    () =>
      new StackingRegressor({
        estimators: [new DecisionTreeRegressor({ ...opts, maxDepth: 2 }), new Ridge()],
        finalEstimator: new Ridge(),
        cv: 2,
      }).fit(X, yReal),
    StackingRegressor.fromJSON,
  ],
  [
    "LogisticRegression",
    () => new LogisticRegression().fit(X, yMulti),
    LogisticRegression.fromJSON,
  ],
  ["Ridge", () => new Ridge().fit(X, yReal), Ridge.fromJSON],
];

function emptyTally(): Tally {
  return { overflowed: 0, refused: 0, loaded: 0, refusedRows: 0, nonFinite: [], wrongError: [] };
}

const totals = emptyTally();
function addTotals(t: Tally) {
  totals.refused += t.refused;
  totals.loaded += t.loaded;
  totals.refusedRows += t.refusedRows;
  totals.overflowed += t.overflowed;
  totals.nonFinite.push(...t.nonFinite);
}

/** Linear models refuse missing values: they, and stackings of them, predict finite rows. */
const FINITE_ROWS = new Set([
  "StackingClassifier",
  "StackingRegressor",
  "LogisticRegression",
  "Ridge",
]);

ESTIMATORS.forEach(([name, fit, fromJSON], index) => {
  const rows = FINITE_ROWS.has(name) ? X : XPredict;
  Deno.test(`${name}.fromJSON() refuses or predicts finite numbers on ${RUNS} mutants`, async () => {
    const json = (await fit()).toJSON();
    // The unmutated model loads and predicts finite numbers.
    const clean = emptyTally();
    await trial(() => fromJSON(structuredClone(json) as object), rows, "clean", clean);
    // ...as does its JSON text read back.
    await trial(() => fromJSON(JSON.parse(JSON.stringify(json))), rows, "clean text", clean);
    assert.equal(clean.loaded - clean.refusedRows, 2, `${name}: the clean model predicts`);
    const random = rng(0x5eed + index);
    const tally = emptyTally();
    for (let i = 0; i < RUNS; i++) {
      const { value, what } = mutant(json, random);
      const overflow = FINITE_ROWS.has(name) && linearCanOverflow(largest(value), rows);
      await trial(() => fromJSON(value as object), rows, `#${i} ${what}`, tally, overflow);
    }
    addTotals(tally);
    report(name, tally);
  });
});

const XGB_JSON = [
  "xgb_binary",
  "xgb_multiclass",
  "xgb_dart",
  "xgb_regression",
  "xgb_missing",
  "categorical",
];
/** Rows for an XGBoost fixture: its own first rows, plus missing and extreme rows. */
function xgbRows(fixture: Record<string, unknown>): number[][] {
  const rows = ((fixture.X ?? fixture.X_test ?? []) as number[][]).slice(0, 6);
  if (rows.length === 0) return XPredict;
  const cols = rows[0].length;
  return [...rows, new Array(cols).fill(NaN), rows[0].map((_, j) => (j % 2 ? 1e30 : -1e30))];
}

/** An XGBoost JSON model of the tests' fixtures as an object, and rows to predict. */
function xgbFixture(name: string): { model: Record<string, unknown>; rows: number[][] } {
  if (name === "categorical") {
    // XGBoost's text holds bare NaN (categorical split conditions): quoted, the reader takes it.
    const fx = loadExplainFixture(name);
    const model = JSON.parse(fx.model.replace(/\bNaN\b/g, '"NaN"'));
    return { model, rows: xgbRows({ X: fx.X }) };
  }
  const fixture = JSON.parse(
    Deno.readTextFileSync(new URL(`../../fixtures/trees/${name}.json`, import.meta.url)),
  ) as Record<string, unknown>;
  return { model: fixture.model as Record<string, unknown>, rows: xgbRows(fixture) };
}

XGB_JSON.forEach((name, index) => {
  Deno.test(`fromXGBoostJSON() refuses or predicts finite numbers on mutants of ${name}`, async () => {
    const { model, rows } = xgbFixture(name);
    const random = rng(0xb00 + index);
    const tally = emptyTally();
    for (let i = 0; i < RUNS; i++) {
      const { value, what } = mutant(model, random);
      // Every third mutant goes through the text reader (NaN and ±Infinity as bare tokens).
      const source = i % 3 === 2
        ? JSON.stringify(
          value,
          (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? `@${v}@` : v),
        )
          .replace(/"@(-?\w+)@"/g, "$1")
        : value as object;
      await trial(() => fromXGBoostJSON(source), rows, `#${i} ${what}`, tally);
    }
    addTotals(tally);
    report(name, tally);
  });
});

const UBJ = ["shap_binary_missing", "shap_multiclass", "shap_regression", "categorical"];
UBJ.forEach((name, index) => {
  Deno.test(`fromXGBoostJSON() refuses or predicts finite numbers on corrupt UBJSON ${name}`, async () => {
    const bytes = loadUBJSON(name);
    const clean = fromXGBoostJSON(bytes);
    const rows = Array.from(
      { length: 6 },
      (_, r) => Array.from({ length: clean.nFeatures }, (_, j) => ((r * 7 + j * 3) % 11) - 5),
    );
    rows.push(new Array(clean.nFeatures).fill(NaN));
    const random = rng(0xcafe + index);
    const tally = emptyTally();
    for (let i = 0; i < RUNS; i++) {
      const { value, what } = corruptBytes(bytes, random);
      await trial(() => fromXGBoostJSON(value), rows, `#${i} ${what}`, tally);
    }
    addTotals(tally);
    report(`${name} (UBJSON)`, tally);
  });
});

Deno.test("model fuzz totals", () => {
  console.log(
    `all: ${
      totals.loaded + totals.refused
    } mutants, ${totals.loaded} loaded (${totals.refusedRows} then refused the rows, ${totals.overflowed} linear outputs overflowed on huge coefficients), ${totals.refused} refused, ${totals.nonFinite.length} loaded and predicted non-finite values`,
  );
});
