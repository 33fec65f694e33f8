/**
 * Shared by the tests of tree ensembles II: fixture data sets split as the generator split them
 * (test rows: fold 0), scores, and the scikit-learn references of ensembles.json.
 */
import { type DataSet, loadDataSet, loadFixture } from "../fixtures/ensembles/_load.ts";
import { type CartCase, cartFixture } from "../fixtures/ensembles/_cart.ts";

export interface Split {
  name: string;
  Xtrain: number[][];
  ytrain: number[];
  Xtest: number[][];
  ytest: number[];
}

/** A data set split into train (folds 1–4) and test (fold 0) rows. */
export async function trainTest(name: string): Promise<Split> {
  const d: DataSet = await loadDataSet(name);
  const pick = <T>(items: T[], test: boolean) => items.filter((_, i) => (d.fold[i] === 0) === test);
  return {
    name,
    Xtrain: pick(d.X, false),
    ytrain: pick(d.y, false),
    Xtest: pick(d.X, true),
    ytest: pick(d.y, true),
  };
}

export function accuracy(predicted: ArrayLike<number>, y: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < y.length; i++) if (predicted[i] === y[i]) correct++;
  return correct / y.length;
}

export function r2(predicted: ArrayLike<number>, y: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i];
  mean /= y.length;
  let residual = 0, total = 0;
  for (let i = 0; i < y.length; i++) {
    residual += (y[i] - predicted[i]) ** 2;
    total += (y[i] - mean) ** 2;
  }
  return 1 - residual / total;
}

export function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** A reference score over scikit-learn's 5 seeds. */
export interface SeededScore {
  mean: number;
  std: number;
  min: number;
  max: number;
  values: number[];
}

export interface Reference {
  score: SeededScore | number;
  oobScore?: SeededScore;
  [key: string]: unknown;
}

interface EnsemblesFixture {
  data: Record<string, { task: string; references: Record<string, Reference> }>;
}

export const ensembles = await loadFixture<EnsemblesFixture>("ensembles");

/** scikit-learn's reference `key` on data set `name`. */
export function reference(name: string, key: string): Reference {
  const ref = ensembles.data[name]?.references[key];
  if (ref === undefined) throw new Error(`no reference ${key} for ${name}`);
  return ref;
}

/**
 * How far a score of ours may fall below scikit-learn's mean. Our random streams differ from
 * scikit-learn's (and hist trees split between bins), so the two agree only up to seed noise:
 * twice the spread of scikit-learn's own 5 seeds, plus one test row (the score's resolution),
 * and never less than 1% (or 0.01 of R²).
 */
export function tolerance(ref: SeededScore, nTest: number): number {
  return Math.max(0.01, 2 * ref.std + 1 / nTest);
}

/** The estimator options of a scikit-learn tree case (camelCase). */
export function treeOptions(c: CartCase): Record<string, unknown> {
  const p = c.params as Record<string, unknown>;
  const names: Record<string, string> = {
    criterion: "criterion",
    max_depth: "maxDepth",
    min_samples_split: "minSamplesSplit",
    min_samples_leaf: "minSamplesLeaf",
    min_weight_fraction_leaf: "minWeightFractionLeaf",
    max_leaf_nodes: "maxLeafNodes",
    min_impurity_decrease: "minImpurityDecrease",
    ccp_alpha: "ccpAlpha",
  };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(p)) if (key in names) out[names[key]] = value;
  return out;
}

/** A cart fixture case's data. */
export async function caseData(
  c: CartCase,
): Promise<{ X: number[][]; y: number[]; weights?: number[] }> {
  const data = cartFixture.data[c.data] ?? await loadDataSet(c.data);
  return { X: data.X, y: data.y, weights: c.sampleWeight };
}

export { cartFixture };
export type { CartCase };
