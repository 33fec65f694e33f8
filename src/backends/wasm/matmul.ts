/**
 * GEMM on the WASM runtime: B is packed once in this thread, then row blocks of C are dealt to
 * the workers (assembly/matmul.ts).
 *
 * @module
 */
import type { MatmulArgs, MatmulKernels } from "../matmul.ts";
import { type Task, touchPages, type WasmRuntime } from "../../runtime/_wasm.ts";

/**
 * Below this many multiply-adds (2^23, about 200³) the work stays in one task: a worker round
 * trip costs more. Measured (bench/threads_bench.ts, Deno, 2 threads / 1): 128³ ran at 0.81×
 * when split at the old 2^21, 256³ gains 1.52×.
 */
const MIN_PARALLEL_WORK = 1 << 23;

/**
 * Rows of C per task: a multiple of the micro-kernel's 4 rows; one task per thread where this
 * thread takes a share (WasmRuntime.runSharing) or where memory is copied (every task carries
 * all of packed B to its worker, and each is a message round trip), else ~2 per worker.
 */
function rowsPerTask(m: number, runtime: WasmRuntime, work: number): number {
  const threads = runtime.threads;
  if (threads === 1 || work < MIN_PARALLEL_WORK) return m;
  const tasks = runtime.sharing || !runtime.shared ? threads : threads * 2;
  return Math.max(4, Math.ceil(m / tasks / 4) * 4);
}

export function wasmMatmul(runtime: WasmRuntime): MatmulKernels {
  return {
    name: "wasm",
    matmul: (args) => matmulOn(runtime, args),
  };
}

async function matmulOn(runtime: WasmRuntime, args: MatmulArgs): Promise<void> {
  const { m, n, k, transposeA, transposeB, alpha, beta } = args;
  if (m === 0 || n === 0) return;
  const packedBytes = Math.ceil(n / 8) * 8 * k * 4;
  const step = rowsPerTask(m, runtime, m * n * k);
  const taskCount = Math.ceil(m / step);
  // Each task packs its blocks of A into its own scratch.
  const scratchBytes = Math.ceil(runtime.call("matmul_rows_scratch_f32") / 64) * 64;
  // Before anything is allocated: b is copied, then packed (about twice its size in all).
  runtime.checkFits({
    a: args.a.byteLength + taskCount * scratchBytes,
    b: args.b.byteLength + packedBytes,
    [beta === 0 ? "output" : "c"]: m * n * 4,
  });
  await runtime.scope(async (s) => {
    const a = s.put(args.a);
    const b = s.put(args.b);
    const packed = s.alloc(packedBytes);
    const c = beta === 0 ? s.alloc(m * n * 4) : s.put(args.c);
    runtime.call("matmul_pack_b_f32", b, packed, k, n, transposeB ? 1 : n, transposeB ? k : 1);
    const [strideRow, strideK] = transposeA ? [1, m] : [k, 1];
    const scratch = s.alloc(scratchBytes * taskCount);
    const tasks: Task[] = [];
    for (let r0 = 0, t = 0; r0 < m; r0 += step, t++) {
      const r1 = Math.min(m, r0 + step);
      const rowsOfC: [number, number] = [c + r0 * n * 4, (r1 - r0) * n * 4];
      const taskScratch = scratch + t * scratchBytes;
      tasks.push({
        kernel: "matmul_rows_f32",
        args: [a, packed, c, n, k, r0, r1, strideRow, strideK, alpha, beta, taskScratch],
        scratch: [[taskScratch, scratchBytes]],
        inputs: [
          transposeA ? [a, m * k * 4] : [a + r0 * k * 4, (r1 - r0) * k * 4],
          [packed, packedBytes],
          ...(beta === 0 ? [] : [rowsOfC]),
        ],
        outputs: [rowsOfC],
      });
    }
    // The output's pages (a fresh array) took 0.45 ms of a 5.5 ms 512³ product here: touched
    // while the workers compute.
    await s.runSharing(tasks, beta === 0 ? () => touchPages(args.c) : undefined);
    args.c.set(s.f32(c, m * n));
  });
}
