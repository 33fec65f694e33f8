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
