/**
 * Growth steps where memory is copied (a page without cross-origin isolation): the fit's
 * features are dealt to this thread and the workers by ranges of feature ids, and each worker
 * keeps in its own memory, at the offsets they have here, its features' bin columns (sent once)
 * and their histograms (built and subtracted there, never sent back). A step sends a worker the
 * step's small records, the rows of the segments it builds and, once a tree, the tree's (g, h)
 * pairs; the worker sends back its candidates' results. A feature's histograms, subtraction and
 * search are one lane's work in the same order as on one thread: the same bits.
 *
 * Categorical features' split search runs in the calling thread on its histograms, so the
 * workspace builds those of a worker's range there too (WasmWorkspace.#copiedStep).
 *
 * A tree is grown this way from its first step to its last, or not at all: a step run here alone
 * would leave the workers' histograms behind, which the tree's next subtractions read. The
 * ranges change only between trees (from the lanes' timings of the last steps), and a worker
 * lost mid-tree takes histograms with it that nothing can rebuild: the fit then fails. A worker
 * whose memory cannot grow at a tree's first step (nothing of the tree there yet) leaves the
 * fit's trees to the calling thread (WasmWorkspace.#copiedStep).
 *
 * @module
 */
import type { Region, Task } from "../../runtime/_task.ts";
import { SPLIT_FIELD_COUNT } from "../trees.ts";
import { contiguousShares, LaneBalance } from "./_lanes.ts";

/** Where a step's records and blocks lie in this thread's memory (see WasmWorkspace.grow). */
export interface StepRegions {
  /** The step's records, each an input of every worker lane. */
  records: Region[];
  /** Per build record: its histogram block, first row and end row. */
  builds: [hist: number, rowBegin: number, rowEnd: number][];
  /** Every histogram block the step reads or writes (builds, subtractions, searches). */
  hists: number[];
  /** Per searched node: the first and end index of its candidates, in `candidates`. */
  searches: [from: number, to: number][];
  /** The candidates' feature ids. */
  candidates: Int32Array;
  /** The results block: SPLIT_FIELD_COUNT doubles per candidate. */
  out: number;
}

/** What the workspace holds for the whole fit, as byte offsets of this thread's memory. */
export interface GrowthMemory {
  bins: number;
  nRows: number;
  nFeatures: number;
  /** The current tree's (g, h) values and their bytes. */
  values: () => Region;
  rows: number;
  histBytes: number;
  /** The (g, h) gather block (0: none) and its bytes. */
  gather: Region;
}

/** Bytes of one candidate's result. */
const RESULT_BYTES = SPLIT_FIELD_COUNT * 8;

export class CopiedGrowth {
  readonly lanes: number;
  /** Lane l (lane 0: this thread) owns feature ids [bounds[l], bounds[l + 1]). */
  #bounds: Int32Array;
  /** Per worker lane (l − 1): which features' bin columns its memory holds. */
  #columns: Uint8Array[];
  /** Per worker lane: whether it holds the current tree's (g, h) values. */
  readonly #valuesSent: boolean[];
  /** The pool's worker losses when the current tree began. */
  #losses: number;
  /** Learns from every step; the ranges follow it at the next tree. */
  readonly #balance = new LaneBalance();

  constructor(lanes: number, readonly memory: GrowthMemory, losses: number) {
    this.lanes = lanes;
    this.#losses = losses;
    this.#bounds = boundsOf(memory.nFeatures, this.#balance.ends(lanes));
    this.#columns = Array.from({ length: lanes - 1 }, () => new Uint8Array(memory.nFeatures));
    this.#valuesSent = Array.from({ length: lanes - 1 }, () => false);
  }

  /**
   * Begins a tree grown on the lanes: the ranges follow the last steps' timings, and workers
   * that replaced lost ones since (empty memories) get their columns again.
   */
  beginTree(losses: number): void {
    if (losses !== this.#losses) {
      this.#losses = losses;
      this.#columns = this.#columns.map((c) => new Uint8Array(c.length));
    }
    this.#bounds = boundsOf(this.memory.nFeatures, this.#balance.ends(this.lanes));
    this.#valuesSent.fill(false);
  }

  /** The tree's values changed (a new tree, or new values for it): send them again. */
  valuesChanged(): void {
    this.#valuesSent.fill(false);
  }

  /** Throws where a worker was lost since the tree began (its histograms with it). */
  check(losses: number): void {
    if (losses !== this.#losses) {
      throw new Error(
        "A worker of the pool stopped during this fit, and the histograms of its features with it",
      );
    }
  }

  /**
   * The step's feature positions per lane: lane l runs features[k[l] .. k[l + 1]) (the
   * features are increasing).
   */
  featureRanges(features: Int32Array, featureCount: number): number[] {
    const k = [0];
    for (let l = 1; l < this.lanes; l++) {
      let at = k[l - 1];
      while (at < featureCount && features[at] < this.#bounds[l]) at++;
      k.push(at);
    }
    k.push(featureCount);
    return k;
  }

  /**
   * Adds to worker lane l's task (l ≥ 1) of features[k0 .. k1) the regions it copies: in, the
   * step's records, the bin columns it lacks, the tree's values once and the built segments'
   * rows; out, its candidates' results; and as scratch, the histogram blocks and the gather
   * block its memory must reach.
   */
  regions(task: Task, l: number, k0: number, k1: number, step: StepRegions): Task {
    const memory = this.memory;
    if (k1 <= k0) return { ...task, inputs: [], outputs: [] };
    const inputs: Region[] = [...step.records];
    const columns = this.#columns[l - 1];
    const lo = this.#bounds[l], hi = this.#bounds[l + 1];
    for (let f = lo; f < hi;) {
      if (columns[f] === 1) {
        f++;
        continue;
      }
      const from = f;
      while (f < hi && columns[f] === 0) columns[f++] = 1;
      inputs.push([memory.bins + from * memory.nRows, (f - from) * memory.nRows]);
    }
    if (!this.#valuesSent[l - 1]) {
      inputs.push(memory.values());
      this.#valuesSent[l - 1] = true;
    }
    for (const [, rowBegin, rowEnd] of step.builds) {
      if (rowEnd > rowBegin) inputs.push([memory.rows + rowBegin * 4, (rowEnd - rowBegin) * 4]);
    }
    const outputs: Region[] = [];
    for (const [from, to] of step.searches) {
      let a = from, b = to;
      while (a < b && step.candidates[a] < lo) a++;
      while (b > a && step.candidates[b - 1] >= hi) b--;
      if (b > a) outputs.push([step.out + a * RESULT_BYTES, (b - a) * RESULT_BYTES]);
    }
    const scratch: Region[] = step.hists.map((hist) => [hist, memory.histBytes] as const);
    if (memory.gather[0] !== 0) scratch.push(memory.gather);
    return { ...task, inputs, outputs, scratch };
  }

  /**
   * Learns from a step of two lanes: this thread's lane took `here` ms for `mine` of `total`
   * features, the worker's `there` ms by the best estimate at hand.
   */
  record(here: number, there: number, mine: number, total: number): void {
    this.#balance.record([here, there], mine, total);
  }
}

/** Feature id bounds of `ends.length` lanes over nFeatures features (see contiguousShares). */
function boundsOf(nFeatures: number, ends: number[]): Int32Array {
  const shares = contiguousShares(nFeatures, ends);
  return Int32Array.from([0, ...shares.map(([, hi]) => hi)]);
}
