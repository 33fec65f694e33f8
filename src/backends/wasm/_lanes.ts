/**
 * How a call split between this thread and the workers (WasmRuntime.runSharing) divides its
 * items: contiguous shares, and for two lanes a split learnt from the lanes' timings (the tree
 * fit's growth steps, partitions and margin updates).
 *
 * @module
 */

/**
 * Contiguous ranges of n items, one per entry of `ends` (cumulative fractions, the last 1),
 * each at least one item where n allows.
 */
export function contiguousShares(n: number, ends: number[]): [number, number][] {
  const out: [number, number][] = [];
  let lo = 0;
  ends.forEach((end, i) => {
    const left = ends.length - 1 - i;
    const hi = i === ends.length - 1
      ? n
      : Math.min(n - left, Math.max(lo + 1, Math.round(n * end)));
    out.push([lo, hi]);
    lo = hi;
  });
  return out;
}

/**
 * How a call split across two lanes (this thread and one worker) divides its items, learnt
 * from how long each lane took per item in the last calls (WasmRuntime.runSharing): a worker's
 * equal share of a fit's step ran 7–45% longer than this thread's across sessions here, and
 * whichever lane waits, the call lasts as long as the slower. Which lane runs an item never
 * changes its result, so the split may follow the timings. More lanes split evenly.
 */
export class LaneBalance {
  /** This thread's fraction of the items. */
  #mine = 0.5;

  /** Cumulative fractions of the items at the end of each of `lanes` lanes' shares. */
  ends(lanes: number): number[] {
    if (lanes !== 2) return Array.from({ length: lanes }, (_, i) => (i + 1) / lanes);
    return [this.#mine, 1];
  }

  /**
   * Learns from a runSharing call's lane times (`lanes`), which gave this thread `mine` items of
   * `total`.
   */
  record(lanes: number[], mine: number, total: number): void {
    const [here, there] = lanes;
    if (lanes.length !== 2 || !(here > 0 && there > 0) || mine <= 0 || mine >= total) return;
    const rateHere = mine / here, rateThere = (total - mine) / there;
    const target = rateHere / (rateHere + rateThere);
    this.#mine = Math.min(0.7, Math.max(0.3, 0.7 * this.#mine + 0.3 * target));
  }
}
