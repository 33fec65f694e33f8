/**
 * How a call split between this thread and the workers (WasmRuntime.runSharing) divides its
 * items: contiguous shares, and for two lanes a split learnt from the lanes' timings (the tree
 * fit's partitions and margin updates, and where its growth steps' lanes start).
 *
 * @module
 */
import type { StagedReply } from "../../runtime/_task.ts";
import type { Scope, Task } from "../../runtime/_wasm.ts";

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

/**
 * This thread's share of a call in which it has work of its own to do first, while the workers
 * compute (a fresh output's page faults: see touchPages), learnt from the last calls: what that
 * work cost a 4 KiB page and what the kernel cost a flop, so that its lane ends with theirs.
 * Which lane runs an item never changes its result.
 */
export class CallerShare {
  #msPerPage = NaN;
  #msPerFlop = NaN;

  /**
   * This thread's fraction of a call of `flops` split over `lanes` lanes (its own the first; the
   * workers' even), whose own work first is `pages` pages: at most an even share, and at least
   * an eighth of one, even where that work alone outlasts a worker's share (so that the timings
   * keep coming).
   */
  fraction(lanes: number, flops: number, pages: number): number {
    const even = 1 / lanes;
    if (!(this.#msPerPage >= 0 && this.#msPerFlop > 0)) return even;
    // own + a·compute = (1 − a)·compute / (lanes − 1)
    const compute = flops * this.#msPerFlop, theirs = compute / (lanes - 1);
    const a = (theirs - pages * this.#msPerPage) / (compute + theirs);
    return Math.min(even, Math.max(even / 8, a));
  }

  /**
   * Learns from a call: its own work of `pages` pages took `ownMs`; `laneMs` and `laneFlops` are
   * each lane's time (runSharing's, this thread's including its own work) and flops.
   */
  record(ownMs: number, pages: number, laneMs: number[], laneFlops: number[]): void {
    let ms = 0, flops = 0;
    for (let i = 1; i < laneMs.length; i++) {
      if (laneMs[i] > 0 && laneFlops[i] > 0) [ms, flops] = [ms + laneMs[i], flops + laneFlops[i]];
    }
    if (flops === 0 && laneMs[0] > ownMs && laneFlops[0] > 0) {
      [ms, flops] = [laneMs[0] - ownMs, laneFlops[0]];
    }
    const blend = (old: number, now: number) => Number.isNaN(old) ? now : 0.5 * old + 0.5 * now;
    if (flops > 0) this.#msPerFlop = blend(this.#msPerFlop, ms / flops);
    if (pages > 0 && ownMs >= 0) this.#msPerPage = blend(this.#msPerPage, ownMs / pages);
  }
}

/**
 * Whether this thread's fresh arrays fault in when first written (see touchPages), learnt from
 * the pages it touched itself: where they do (V8 and SpiderMonkey here: each 4 KiB page is
 * mapped on its first write, 11–23 µs), a long call on copied memory leaves the faults to a
 * worker (Task.fresh); where they do not (WebKit here: a fresh 4 MiB array's pages came mapped
 * already, touched in 0–1 ms), a worker would only add faults of its own. Every PROBE_EVERY-th
 * such call this thread touches the pages itself again, so that a change is seen.
 */
export class FreshFaults {
  #msPerPage = NaN;
  #calls = 0;

  /** Whether the next call should leave the result's faults to a worker. */
  toWorker(): boolean {
    if (!(this.#msPerPage > FAULT_MS_PER_PAGE)) return false;
    return ++this.#calls % PROBE_EVERY !== 0;
  }

  /** Learns from a call in which this thread touched `pages` fresh pages in `ms`. */
  record(ms: number, pages: number): void {
    if (!(pages > 0 && ms >= 0)) return;
    const now = ms / pages;
    this.#msPerPage = Number.isNaN(this.#msPerPage) ? now : 0.5 * this.#msPerPage + 0.5 * now;
  }
}

/** A page touched in more than this (ms) was faulted in: a mapped one takes ~0.01 µs. */
const FAULT_MS_PER_PAGE = 0.002;
/** FreshFaults: one call in this many has this thread touch its pages again. */
const PROBE_EVERY = 16;

/**
 * How a kernel's calls into fresh outputs share out their page faults, learnt from the last
 * calls: this thread's lane where it takes one on copied memory (`page`), the first worker's
 * where a long call's output is left to it (`worker`, see freshResult), and whether this
 * thread's fresh arrays fault in at all (`faults`).
 */
export interface FaultShares {
  page: CallerShare;
  worker: CallerShare;
  faults: FreshFaults;
}

/** Fresh FaultShares, nothing learnt yet. */
export function faultShares(): FaultShares {
  return { page: new CallerShare(), worker: new CallerShare(), faults: new FreshFaults() };
}

/**
 * A call's result where its first task had `fresh` (Task.fresh) and its worker sent that buffer
 * back (`replies`, from SharingOptions.received): the buffer, the other tasks' first output
 * regions copied into it from WASM memory, where the result's first byte lies at `at`. The first
 * worker's lane (`share`) learns from the replies' times and each task's `laneFlops`. Undefined
 * where no fresh buffer came back (the tasks ran in this thread).
 */
export function freshResult(
  s: Scope,
  tasks: Task[],
  replies: Map<Task, StagedReply>,
  at: number,
  share: CallerShare,
  laneFlops: number[],
): Float32Array | undefined {
  const fresh = replies.get(tasks[0])?.fresh;
  if (fresh === undefined) return undefined;
  const result = new Float32Array(fresh.buffer);
  for (const task of tasks.slice(1)) {
    const [offset, bytes] = task.outputs![0];
    result.set(s.f32(offset, bytes / 4), (offset - at) / 4);
  }
  const laneMs = tasks.map((task) => replies.get(task)?.ms ?? NaN);
  share.record(fresh.touchMs, Math.ceil(result.length / 1024), laneMs, laneFlops);
  return result;
}

/**
 * The smallest split call (in cells of work) that has paid off, learnt from the calls split so
 * far: one that lasted longer than this thread's own lane would have taken for all its items
 * (at its pace in the call) raises the bar to twice its size; one that took under
 * GAIN_RATIO of that lowers it by half again, down to `floor`. Below the bar, every
 * `probeEvery`-th call splits anyway, so that the bar can come down where its rise was the
 * host's noise (all a fit's steps may lie below it); a probe that loses doubles the interval (up
 * to MAX_PROBE_EVERY), one that pays resets it. Where a worker starts its share late (Firefox
 * on a two-core host: 1–7 ms after the ring, as its threads and the page's share the cores), a
 * 40k-row fit's small growth steps split ran at half the speed of one thread; where workers
 * start within µs, splitting pays from `floor` on and the bar stays there.
 */
export class SplitPayoff {
  #min: number;
  #probeEvery = MIN_PROBE_EVERY;
  #below = 0;
  #probing = false;

  constructor(readonly floor: number, readonly ceiling: number) {
    this.#min = floor;
  }

  /** Cells of work below which a call had better stay in one lane, probes aside. */
  get minCells(): number {
    return this.#min;
  }

  /** Whether a call of `cells` (at least `floor`) splits: at or above the bar, or as a probe. */
  splits(cells: number): boolean {
    if (cells >= this.#min) return true;
    if (++this.#below < this.#probeEvery) return false;
    this.#below = 0;
    this.#probing = true;
    return true;
  }

  /**
   * Learns from a split call of `cells`: `wallMs` from its start to its end, `mineMs` this
   * thread's lane, which ran `mine` of the `total` items.
   */
  record(cells: number, wallMs: number, mineMs: number, mine: number, total: number): void {
    const probe = this.#probing;
    this.#probing = false;
    if (!(mine > 0 && mine <= total && mineMs > 0 && wallMs > 0 && cells > 0)) return;
    const alone = mineMs * total / mine;
    if (wallMs > alone) {
      this.#min = Math.min(this.ceiling, Math.max(this.#min, 2 * cells));
      if (probe) this.#probeEvery = Math.min(MAX_PROBE_EVERY, 2 * this.#probeEvery);
    } else if (wallMs < GAIN_RATIO * alone) {
      this.#min = Math.max(this.floor, this.#min / 2);
      this.#probeEvery = MIN_PROBE_EVERY;
    }
  }
}

/** A split call that took under this fraction of one lane's time for all its items paid off. */
const GAIN_RATIO = 0.75;
/** Calls below the bar between two probes: at first, and at most (after probes that lost). */
const MIN_PROBE_EVERY = 8, MAX_PROBE_EVERY = 64;
