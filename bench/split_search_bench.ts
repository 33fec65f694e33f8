/**
 * `deno run -A bench/split_search_bench.ts` (or `npm run bench -- --only split-search`): a
 * growth step's split search (XGBoost's defaults: λ = 1, no L1, no step limit, min_child_weight
 * 1) over nodes of 28 features, 256 bins and a
 * missing-value slot each, called straight on the WASM builds (`trees_find_splits_f64`, one
 * thread, no facade), against the TypeScript reference (`findSplitsRef`) on the same histograms
 * in the same run; checks that both write the same bits. Two sizes: 4 nodes, whose histograms
 * (0.5 MB) stay in the core's caches, as a step's do when it searches each chunk of features
 * right after building it, and 32 nodes (3.7 MB, a depth-6 tree's last level), read from
 * further out. Prints a markdown table of ns per split bin and direction (medians of 15 passes
 * over the nodes). Needs build/ (`deno task build`).
 *
 * @module
 */
import { findSplitsRef } from "../src/backends/js/trees.ts";
import { SPLIT_FIELD_COUNT, SPLIT_PARAM, SPLIT_PARAM_COUNT } from "../src/backends/trees.ts";
import { Rng } from "../src/_random.ts";
import { wasmRuntimeOf } from "../tests/_wasm_runtime.ts";
import { fmt, median, table } from "./_harness.ts";

const F = 28, BINS = 256, C = 2, CHUNK = 7;
const binOffsets = Int32Array.from({ length: F + 1 }, (_, f) => f * (BINS + 1));
const slots = binOffsets[F];
const features = Int32Array.from({ length: F }, (_, f) => f);

/** Nodes' histograms (a tenth of the bins empty, missing values in four features), parameters. */
function nodes(count: number) {
  const rng = new Rng(5);
  // One block each, node after node, as they lie in WASM memory.
  const allHists = new Float64Array(count * slots * C);
  const allParams = new Float64Array(count * SPLIT_PARAM_COUNT);
  const hists: Float64Array[] = [], params: Float64Array[] = [];
  for (let node = 0; node < count; node++) {
    const hist = allHists.subarray(node * slots * C, (node + 1) * slots * C);
    for (let f = 0; f < F; f++) {
      for (let b = 0; b <= BINS; b++) {
        const missing = b === BINS;
        const rows = (missing ? f >= 24 : rng.next() >= 0.1) ? 1 + rng.nextInt(40) : 0;
        hist[(binOffsets[f] + b) * C] = rows * (rng.next() - 0.5);
        hist[(binOffsets[f] + b) * C + 1] = rows * (0.1 + 0.15 * rng.next());
      }
    }
    // Every feature's bins sum to the node's (g, h), as a real node's do: feature 0's sums.
    const total = (f: number, c: number) => {
      let sum = 0;
      for (let b = 0; b <= BINS; b++) sum += hist[(binOffsets[f] + b) * C + c];
      return sum;
    };
    const G = total(0, 0), H = total(0, 1);
    for (let f = 1; f < F; f++) {
      const last = (binOffsets[f] + BINS - 1) * C;
      hist[last] += G - total(f, 0);
      hist[last + 1] += Math.max(0, H - total(f, 1));
    }
    const p = allParams.subarray(node * SPLIT_PARAM_COUNT, (node + 1) * SPLIT_PARAM_COUNT);
    p[SPLIT_PARAM.lambda] = 1;
    p[SPLIT_PARAM.minChildWeight] = 1;
    p[SPLIT_PARAM.lowerBound] = -Infinity;
    p[SPLIT_PARAM.upperBound] = Infinity;
    p[SPLIT_PARAM.sumGrad] = G;
    p[SPLIT_PARAM.sumHess] = H;
    hists.push(hist);
    params.push(p);
  }
  // Split bins searched: nBins − 1 one way, nBins both ways where a feature has missing rows.
  const searched = count * (24 * (BINS - 1) + 4 * 2 * BINS);
  return { hists, params, allHists, allParams, searched };
}

/** Median ms of `fn` over 15 passes, after 30 that let the engine's optimising tier take over. */
function timed(fn: () => void): number {
  for (let i = 0; i < 30; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** The table (see the module's comment), as markdown under its one-line description. */
export async function benchSplitSearch(): Promise<string> {
  const rows: string[][] = [];
  for (const count of [4, 32]) rows.push(...await searchRows(count));
  return `Split search over ${F} features × ${BINS} bins a node (4 features with missing values, ` +
    `searched both ways), one thread, medians of 15 passes; the WASM builds write the ` +
    `reference's bits:\n\n` +
    table(["histograms", "kernel", "ns per split bin", "× reference"], rows);
}

/** The rows of `count` nodes: the reference's, then each WASM build's. */
async function searchRows(count: number): Promise<string[][]> {
  const rows: string[][] = [];
  const { hists, params, allHists, allParams, searched } = nodes(count);
  const reference = hists.map(() => new Float64Array(F * SPLIT_FIELD_COUNT));
  const referenceMs = timed(() => {
    hists.forEach((hist, i) =>
      findSplitsRef({
        hist,
        nChannels: C,
        features,
        featureCount: F,
        binOffsets,
        monotone: null,
        params: params[i],
        out: reference[i],
      })
    );
  });
  const label = `${count} nodes (${fmt((count * slots * C * 8) / 2 ** 20, 1)} MiB)`;
  rows.push([label, "TypeScript reference", fmt((referenceMs * 1e6) / searched, 2), "1.00×"]);
  for (const build of ["relaxed", "simd"]) {
    const runtime = await wasmRuntimeOf(build, 1);
    const { ms, written } = await runtime.scope((scope) => {
      const hist = scope.put(allHists), param = scope.put(allParams);
      const offsets = scope.put(binOffsets), list = scope.put(features);
      const out = scope.alloc(count * F * SPLIT_FIELD_COUNT * 8);
      // As a growth step on one thread searches: by chunks of 7 features (one histogram pass).
      const ms = timed(() => {
        for (let k0 = 0; k0 < F; k0 += CHUNK) {
          for (let i = 0; i < count; i++) {
            runtime.call(
              "trees_find_splits_f64",
              out + i * F * SPLIT_FIELD_COUNT * 8,
              hist + i * slots * C * 8,
              offsets,
              list,
              0,
              param + i * SPLIT_PARAM_COUNT * 8,
              C,
              k0,
              Math.min(F, k0 + CHUNK),
            );
          }
        }
      });
      return { ms, written: scope.f64(out, count * F * SPLIT_FIELD_COUNT).slice() };
    });
    reference.forEach((r, i) => {
      const mine = written.subarray(i * F * SPLIT_FIELD_COUNT, (i + 1) * F * SPLIT_FIELD_COUNT);
      if (!r.every((v, j) => Object.is(v, mine[j]))) {
        throw new Error(`${build}: node ${i}'s splits differ from the reference's`);
      }
    });
    rows.push([label, build, fmt((ms * 1e6) / searched, 2), `${fmt(referenceMs / ms, 2)}×`]);
    await runtime.dispose();
  }
  return rows;
}

if (import.meta.main) console.log(await benchSplitSearch());
