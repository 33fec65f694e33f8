/**
 * GEMM on the WASM runtime: B is packed once in this thread, then row blocks of C are dealt to
 * the workers (assembly/matmul.ts), or claimed by them as they go (claimsRows).
 *
 * @module
 */
import type { MatmulArgs, MatmulKernels } from "../matmul.ts";
import { type Task, touchPages, type WasmRuntime } from "../../runtime/_wasm.ts";
import type { StagedReply } from "../../runtime/_task.ts";
import { type CallerShare, type FaultShares, faultShares, freshResult } from "./_lanes.ts";

/**
 * Below this many multiply-adds (2^23, about 200³) the work stays in one task: a worker round
 * trip costs more. Measured (bench/threads_bench.ts, Deno, 2 threads / 1): 128³ ran at 0.81×
 * when split at the old 2^21, 256³ gains 1.52×.
 */
const MIN_PARALLEL_WORK = 1 << 23;

/**
 * Rows of C per share of a call: a multiple of the micro-kernel's 4 rows; for a split call, one
 * share per thread where this thread takes one (WasmRuntime.runSharing) or where memory is copied
 * (every task carries all of packed B to its worker, and each is a message round trip), else ~2
 * per worker.
 */
function rowsPerShare(m: number, runtime: WasmRuntime, lanes: number, work: number): number {
  if (lanes === 1 || work < MIN_PARALLEL_WORK) return m;
  const shares = runtime.sharing || !runtime.shared ? lanes : lanes * 2;
  return Math.max(4, Math.ceil(m / shares / 4) * 4);
}

/**
 * At most this many multiply-adds (2^25) a task while a runtime is cold (its first
 * COLD_WORK multiply-adds of matmul), where tasks run in place (this thread, or shared memory):
 * a long share is then cut into several kernel calls. V8 first runs a module's functions in its
 * baseline tier and optimises a hot one in the background, but a call already running keeps the
 * baseline code to its end; a task that starts later runs the optimised code. Measured (Deno, a
 * fresh process's first 1024³ product): one thread 237–246 ms as one task, 127–133 ms in tasks
 * of 2^25, 145–174 ms in tasks of 2^27–2^28; two threads 276–278 against 98–110 ms. Warm, such
 * tasks cost 3–7% (Chromium, 1024³: 57.9 → 61.6 ms on one thread, 37.3 → 39.9 on two; each
 * task streams all of packed B again), so warm runtimes keep one task a share.
 */
const MAX_TASK_WORK = 1 << 25;
/** Multiply-adds after which a runtime's matmul kernel counts as optimised (four 1024³). */
const COLD_WORK = 2 ** 32;
/** Rows of A that assembly/matmul.ts packs and runs against each block of B (its MC). */
const BLOCK_ROWS = 72;

/**
 * The row ranges of C, one per task, in the order they are dealt: one a share, or while `cold`
 * each share of `step` rows cut into the same number of chunks, whole blocks of BLOCK_ROWS (a
 * shorter task streams B once for fewer rows: 32-row tasks ran a 1024³ product 4–8% slower)
 * within MAX_TASK_WORK, chunk c of every share before chunk c + 1, so that task i still runs
 * where share i mod shares does (a share shorter than the others ends in empty ranges). Copied
 * memory keeps one task a share (each carries all of packed B).
 */
function taskRows(
  m: number,
  n: number,
  k: number,
  step: number,
  runtime: WasmRuntime,
  cold: boolean,
) {
  const shares = Math.ceil(m / step);
  const inPlace = runtime.shared || runtime.threads === 1;
  const pieces = cold && inPlace ? Math.ceil((step * n * k) / MAX_TASK_WORK) : 1;
  const chunk = pieces <= 1
    ? step
    : Math.max(BLOCK_ROWS, Math.ceil(step / pieces / BLOCK_ROWS) * BLOCK_ROWS);
  const ranges: { rows: [number, number]; share: number }[] = [];
  for (let c = 0; c * chunk < step; c++) {
    for (let share = 0; share < shares; share++) {
      const end = Math.min(m, (share + 1) * step);
      const r0 = Math.min(end, share * step + c * chunk);
      ranges.push({ rows: [r0, Math.min(end, r0 + chunk)], share });
    }
  }
  return { shares, ranges };
}

/**
 * The row ranges of C where this thread takes `mine` rows first (pageRows) and the workers split
 * the rest evenly, each lane's rows a multiple of 4: one task a lane, or each lane's rows cut
 * into `pieces` chunks (a cold runtime, see MAX_TASK_WORK), chunk c of every lane before chunk
 * c + 1, so that task i still runs in lane i mod threads (the call's lanes).
 */
export function pageLanes(m: number, mine: number, threads: number, pieces = 1) {
  const rest = m - mine, per = Math.ceil(rest / (threads - 1) / 4) * 4;
  const lanes: [number, number][] = [[0, mine]];
  for (let w = 1; w < threads; w++) {
    const r0 = Math.min(m, mine + (w - 1) * per);
    lanes.push([r0, Math.min(m, r0 + per)]);
  }
  const ranges: { rows: [number, number]; share: number }[] = [];
  for (let c = 0; c < pieces; c++) {
    lanes.forEach(([lo, hi], share) => {
      const chunk = Math.ceil((hi - lo) / pieces / 4) * 4;
      const r0 = Math.min(hi, lo + c * chunk);
      ranges.push({ rows: [r0, Math.min(hi, r0 + chunk)], share });
    });
  }
  return { shares: threads, ranges };
}

/**
 * The family's kernels on `runtime`; `shares` divide its calls' work where the calling thread
 * or the first worker has the result's faults to take (see pageRows, workerRows), learnt afresh
 * by default.
 */
export function wasmMatmul(runtime: WasmRuntime, shares = faultShares()): MatmulKernels {
  /** Multiply-adds this runtime's matmul calls have started (see COLD_WORK). */
  let work = 0;
  return {
    name: "wasm",
    matmul: (args) => {
      const cold = work < COLD_WORK;
      work += args.m * args.n * args.k;
      return matmulOn(runtime, args, cold, shares);
    },
  };
}

/**
 * The rows of this thread's lane on a page (see WasmRuntime.laneOnPage), a multiple of 4 (0:
 * none): it takes a share of a product into a fresh array, sized (CallerShare) so that the page
 * faults and its rows end with the workers' rows. Chromium, an isolated page, 512³ into a fresh
 * array on two threads: the faults took 4.4–6.1 ms while the workers computed for 1.4–2.5, so
 * the call lasted as long as the faults; with the lane, 4.3–4.4 ms a call (6.4–6.9 before).
 * On shared memory only while the runtime is cold: a warm one's lanes claim their rows
 * (claimsRows), and this thread's lane then claims rows once its pages are done. Where memory
 * is copied, whenever this thread takes a lane at all (WasmRuntime.laneOnCopied): an even lane
 * after the faults had made it the last to end (Chromium, a plain page, 512³ on two threads).
 */
function pageRows(
  runtime: WasmRuntime,
  args: MatmulArgs,
  lanes: number,
  share: CallerShare,
): number {
  const { m, n, k, beta } = args, flops = 2 * m * n * k;
  if (!args.freshOutput || beta !== 0 || m * n * k < MIN_PARALLEL_WORK) return 0;
  if (!(runtime.shared ? runtime.laneOnPage(flops) : runtime.laneOnCopied(flops))) return 0;
  const a = share.fraction(lanes, flops, Math.ceil((m * n) / 1024));
  return Math.floor((a * m) / 4) * 4;
}

/**
 * The rows of the first worker's lane of a product into a fresh array on copied memory (a page
 * without cross-origin isolation) whose lanes are all the workers' (WasmRuntime.laneOnCopied:
 * longer than a page's thread takes), a multiple of 4 (0: none, the lanes even). That worker
 * first writes to every page of a fresh array of the whole result and sends it back with its
 * rows in it (Task.fresh), which becomes the result: the page's thread only copies the other
 * lanes' rows in. Touching the result's pages itself while the workers computed, it took a core
 * from them: in Chromium (a plain page, 1024³, two threads) 23–24 ms to touch 4 MiB (11.5 ms
 * alone), and the call ran as long as one that touched them after the workers were done. The
 * lane is sized (CallerShare) so that the worker's faults and its rows end with the others'.
 * Only where this thread's fresh arrays fault in at all (FreshFaults, asked by the caller): in
 * WebKit the page's fresh result came mapped already, and a worker's faults made such calls
 * 1.35× as long.
 */
function workerRows(args: MatmulArgs, lanes: number, share: CallerShare): number {
  const { m, n, k } = args, flops = 2 * m * n * k;
  const a = share.fraction(lanes, flops, Math.ceil((m * n) / 1024));
  return Math.max(4, Math.floor((a * m) / 4) * 4);
}

/**
 * Whether a product may leave its fresh result's faults to a worker (see workerRows), where
 * this thread's fresh arrays fault in (FreshFaults).
 */
function workerMayFault(runtime: WasmRuntime, args: MatmulArgs): boolean {
  const { m, n, k, beta } = args;
  if (!args.freshOutput || beta !== 0 || m * n * k < MIN_PARALLEL_WORK) return false;
  return !runtime.shared && runtime.threads > 1 && !runtime.laneOnCopied(2 * m * n * k);
}

/** Rows a lane claims at the least (assembly/matmul.ts's CLAIM_ROWS). */
const CLAIM_ROWS = 12;

/**
 * Whether a call's lanes claim its rows as they go (matmul_rows_f32's `claim`) rather than each
 * taking a fixed share: where memory is shared and the call splits, once the runtime is warm (a
 * cold one cuts its shares into several kernel calls, see MAX_TASK_WORK). A lane whose core is
 * slower or shared (the caller faulting in a fresh output, more threads than cores, a busy
 * host, efficiency cores) then takes fewer rows; the bits are the same.
 */
function claimsRows(runtime: WasmRuntime, args: MatmulArgs, cold: boolean): boolean {
  const { m, n, k } = args;
  return runtime.shared && runtime.threads > 1 && !cold && m * n * k >= MIN_PARALLEL_WORK &&
    m > CLAIM_ROWS;
}

/** One task a lane, each over every row, for lanes that claim rows (see claimsRows). */
function claimedLanes(m: number, lanes: number) {
  const ranges = Array.from({ length: lanes }, (_, share) => ({
    rows: [0, m] as [number, number],
    share,
  }));
  return { shares: lanes, ranges };
}

/**
 * Chunks per lane of pageLanes: while cold on shared memory, the longest lane in tasks within
 * MAX_TASK_WORK; else one (copied memory keeps one task a lane, each carrying all of packed B).
 */
function coldPieces(
  runtime: WasmRuntime,
  args: MatmulArgs,
  lanes: number,
  cold: boolean,
  mine: number,
): number {
  if (!cold || !runtime.shared) return 1;
  const { m, n, k } = args;
  const longest = Math.max(mine, Math.ceil((m - mine) / (lanes - 1))) * n * k;
  return Math.ceil(longest / MAX_TASK_WORK);
}

async function matmulOn(
  runtime: WasmRuntime,
  args: MatmulArgs,
  cold: boolean,
  callerShares: FaultShares,
): Promise<Float32Array | void> {
  const { m, n, k, transposeA, transposeB, alpha, beta } = args;
  if (m === 0 || n === 0) return;
  const packedBytes = Math.ceil(n / 8) * 8 * k * 4, pages = Math.ceil((m * n) / 1024);
  // The lanes the call is cut for (see WasmRuntime.splitLanes).
  const lanes = runtime.splitLanes();
  const claimed = claimsRows(runtime, args, cold);
  const mine = claimed ? 0 : pageRows(runtime, args, lanes, callerShares.page);
  const mayFault = !claimed && mine === 0 && workerMayFault(runtime, args);
  const first = mayFault && callerShares.faults.toWorker()
    ? workerRows(args, lanes, callerShares.worker)
    : 0;
  const { shares, ranges } = claimed
    ? claimedLanes(m, lanes)
    : mine > 0
    ? pageLanes(m, mine, lanes, coldPieces(runtime, args, lanes, cold, mine))
    : first > 0
    ? pageLanes(m, first, lanes)
    : taskRows(m, n, k, rowsPerShare(m, runtime, lanes, m * n * k), runtime, cold);
  // Each share packs its blocks of A into its own scratch (its tasks run one after another).
  const scratchBytes = Math.ceil(runtime.call("matmul_rows_scratch_f32") / 64) * 64;
  // Before anything is allocated: b is copied, then packed (about twice its size in all).
  runtime.checkFits({
    a: args.a.byteLength + shares * scratchBytes,
    b: args.b.byteLength + packedBytes,
    [beta === 0 ? "output" : "c"]: m * n * 4,
  });
  return await runtime.scope(async (s): Promise<Float32Array | void> => {
    const a = s.put(args.a);
    const b = s.put(args.b);
    const packed = s.alloc(packedBytes);
    const c = beta === 0 ? s.alloc(m * n * 4) : s.put(args.c);
    runtime.call("matmul_pack_b_f32", b, packed, k, n, transposeB ? 1 : n, transposeB ? k : 1);
    const [strideRow, strideK] = transposeA ? [1, m] : [k, 1];
    const scratch = s.alloc(scratchBytes * shares);
    const claim = claimed ? s.zeros(4) : 0;
    const tasks: Task[] = ranges.map(({ rows: [r0, r1], share }) => {
      const rowsOfC: [number, number] = [c + r0 * n * 4, (r1 - r0) * n * 4];
      const taskScratch = scratch + share * scratchBytes;
      return {
        kernel: "matmul_rows_f32",
        // deno-fmt-ignore
        args: [a, packed, c, n, k, r0, r1, strideRow, strideK, alpha, beta, taskScratch, claim,
          shares],
        scratch: [[taskScratch, scratchBytes]],
        inputs: [
          transposeA ? [a, m * k * 4] : [a + r0 * k * 4, (r1 - r0) * k * 4],
          [packed, packedBytes],
          ...(beta === 0 ? [] : [rowsOfC]),
        ],
        outputs: [rowsOfC],
      };
    });
    if (first > 0) tasks[0].fresh = { bytes: m * n * 4, at: 0 };
    const replies = new Map<Task, StagedReply>();
    // The output's pages (a fresh array) are touched while the workers compute: they took 0.45
    // ms of a 5.5 ms 512³ product in Deno, 3–6 ms in Chromium.
    let touchMs = 0;
    const touch = () => void (touchMs = touchPages(args.c));
    const laneMs = await s.runSharing(tasks, beta === 0 && first === 0 ? touch : undefined, {
      copiedLane: runtime.laneOnCopied(2 * m * n * k),
      // Claimed rows: a page's thread that faults in a fresh output takes a lane as well (up
      // to the same size), and claims rows once its pages are done.
      evenOnPage: mine > 0 ||
        (claimed && args.freshOutput && beta === 0 && runtime.laneOnPage(2 * m * n * k)),
      received: (task, reply) => replies.set(task, reply),
    });
    if (first > 0) {
      // One task a lane: the first worker's rows are in its fresh array, the others join them.
      const flops = ranges.map(({ rows: [r0, r1] }) => 2 * (r1 - r0) * n * k);
      const result = freshResult(s, tasks, replies, c, callerShares.worker, flops);
      if (result !== undefined) return result;
    }
    if (mine > 0) {
      const flops = new Array<number>(shares).fill(0);
      for (const { rows: [r0, r1], share } of ranges) flops[share] += 2 * (r1 - r0) * n * k;
      callerShares.page.record(touchMs, pages, laneMs, flops);
    }
    if (mayFault && first === 0) callerShares.faults.record(touchMs, pages);
    args.c.set(s.f32(c, m * n));
  });
}
