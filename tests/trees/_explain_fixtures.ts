/** Loading of the fixtures written by tests/fixtures/make_explain_fixtures.py. */

const DIR = new URL("../fixtures/explain/", import.meta.url);

/** A model trained by XGBoost 1.7, rows it was asked about and its answers. */
export interface ExplainFixture {
  note: string;
  params: Record<string, unknown>;
  /** XGBoost's JSON model text (may hold bare NaN). */
  model: string;
  X: number[][];
  margin: number[];
  prediction: number[];
  contribs: number[];
  contribsShape: number[];
  interactions: number[];
  interactionsShape: number[];
}

/** The fixture cases with SHAP values. */
export const SHAP_CASES = ["shap_binary_missing", "shap_multiclass", "shap_regression"];

export function loadExplainFixture(name: string): ExplainFixture {
  const fx = JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, DIR)));
  return { ...fx, X: fx.X.map((r: (number | null)[]) => r.map((v) => (v === null ? NaN : v))) };
}

/** The same model in UBJSON, as `save_raw("ubj")` wrote it. */
export function loadUBJSON(name: string): Uint8Array {
  return Deno.readFileSync(new URL(`${name}.ubj`, DIR));
}
