/**
 * Fault injection for the worker pool and the WASM heap, written once and run in Deno
 * (tests/runtime/pool_faults_test.ts, from src/), Node (tests/node/faults_test.mjs) and Chromium
 * (tests/browser/faults_test.mjs), both of which bundle this file with esbuild
 * (tests/runtime/_fault_bundle.mjs). No assertion library: it must run in a page too.
 *
 * Each fault is injected in the middle of a call, on copied memory (each worker a private
 * memory, inputs and outputs copied per task) and on shared memory:
 *
 * - a worker terminated while it runs its share: the call rejects once the thread is gone and
 *   the other share is done, memory no longer changes, a fresh worker takes the slot and the
 *   next call is right;
 * - a WASM trap (out-of-bounds access; integer divide by zero) in a task: the call rejects with
 *   a WebAssembly.RuntimeError naming the kernel, no block is half written, the worker lives on
 *   and the next call is right;
 * - memory.grow failing (a worker's private memory at its maximum; the heap's memory at its
 *   maximum; the engine refusing pages below it): a RangeError about memory, nothing allocated
 *   or changed, and the next call is right;
 * - a public call too big for WASM memory (a runtime capped at a few MiB): a RangeError naming
 *   the argument before anything is allocated, and the next call is right.
 *
 * @module
 */
import { loadWasmModule } from "../../src/runtime/_assets.ts";
import { detectFeatures } from "../../src/runtime/_features.ts";
import { Heap } from "../../src/runtime/_heap.ts";
import { Pool, type PoolWorker, spawnWorker } from "../../src/runtime/_pool.ts";
import type { Task } from "../../src/runtime/_task.ts";
import { MAXIMUM_PAGES, WasmRuntime } from "../../src/runtime/_wasm.ts";
import { dispose, init, setWasmMaximumPages, wasmRuntime } from "../../src/runtime/runtime.ts";
import { matmul } from "../../src/linalg/matmul.ts";
import { scaledDotProductAttention } from "../../src/attention/scaled_dot_product_attention.ts";

/** One fault case: a name and a check that throws when the pool broke its promise. */
export interface FaultCase {
  name: string;
  run: () => Promise<void>;
}

export type MemoryKind = "copied" | "shared";

/** Floats per block: a task adds its tag to one block. */
const BLOCK = 1 << 16;
/** An offset past any memory here: the kernel's first access traps. */
const BEYOND = 0xfff00000;
const PAGE = 65536;

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The error a promise rejects with (throws when it resolves). */
async function rejection(promise: Promise<unknown>, what: string): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error(`${what} resolved but should have rejected`);
}

interface Rig {
  kind: MemoryKind;
  pool: Pool;
  memory: WebAssembly.Memory;
  heap: Heap;
  /** Every worker thread started, replacements included, in order. */
  spawned: PoolWorker[];
  /** A block of ones, the addend of every task. */
  ones: number;
  /** Called with (offset, bytes) after each output a copied task writes back. */
  onWrite: (offset: number) => void;
}

/** A pool of two workers on copied or shared memory; `workerPages` caps private memories. */
async function rig(kind: MemoryKind, workerPages = MAXIMUM_PAGES): Promise<Rig> {
  const shared = kind === "shared";
  const memory = new WebAssembly.Memory({ initial: 32, maximum: MAXIMUM_PAGES, shared });
  const spawned: PoolWorker[] = [];
  const pool = await Pool.start({
    size: 2,
    features: await detectFeatures(),
    module: await loadWasmModule(shared ? "simd-shared" : "simd"),
    memory: shared ? memory : null,
    maximumPages: workerPages,
    // Slots in the order the pool asks for them (a web worker's start takes a variable time).
    spawn: (k) => {
      const slot = spawned.length;
      spawned.length += 1;
      return spawnWorker(k).then((worker) => spawned[slot] = worker);
    },
  });
  const heap = new Heap(memory, MAXIMUM_PAGES);
  const ones = heap.alloc(BLOCK * 4);
  new Float32Array(memory.buffer, ones, BLOCK).fill(1);
  return { kind, pool, memory, heap, spawned, ones, onWrite: () => {} };
}

/** Runs tasks on the rig's pool, copying regions in and out where memory is not shared. */
function run(r: Rig, tasks: Task[]): Promise<void> {
  return r.pool.run(
    tasks,
    (offset, bytes) => new Uint8Array(r.memory.buffer, offset, bytes),
    (offset, data) => {
      new Uint8Array(r.memory.buffer, offset).set(data);
      r.onWrite(offset);
    },
  );
}

/** Task adding `tag` to the block at `out`, `n` floats of it. */
function addTask(r: Rig, out: number, tag: number, n = BLOCK): Task {
  return {
    kernel: "diffusion_combine2_f32",
    args: [out, n, out, 1, r.ones, tag],
    inputs: [[out, n * 4], [r.ones, n * 4]],
    outputs: [[out, n * 4]],
  };
}

/** `count` zeroed blocks. */
function blocks(r: Rig, count: number) {
  const region = r.heap.alloc(count * BLOCK * 4);
  const view = () => new Float32Array(r.memory.buffer, region, count * BLOCK);
  view().fill(0);
  const at = (j: number) => region + j * BLOCK * 4;
  const block = (j: number) => view().subarray(j * BLOCK, (j + 1) * BLOCK);
  /** Every float of block j equals its first: the block is whole or untouched. */
  const whole = (j: number) => block(j).every((v) => v === block(j)[0]);
  return { at, view, block, whole, free: () => r.heap.free(region) };
}

/** The next call after a fault: four fresh blocks get 1, 2, 3, 4 everywhere. */
async function nextCallIsRight(r: Rig): Promise<void> {
  const b = blocks(r, 4);
  try {
    await run(r, [0, 1, 2, 3].map((j) => addTask(r, b.at(j), j + 1)));
    for (let j = 0; j < 4; j++) {
      const block = b.block(j);
      check(
        block[0] === j + 1 && b.whole(j),
        `the next call's block ${j} holds ${block[0]} (expected ${j + 1} everywhere)`,
      );
    }
  } finally {
    b.free();
  }
}

/** Fails when the memory under `view` changes within a few milliseconds. */
async function staysStill(view: () => Float32Array, what: string): Promise<void> {
  const settled = view().slice();
  await pause(50);
  const changed = view().findIndex((v, i) => v !== settled[i]);
  check(changed < 0, `${what}: float ${changed} changed after the call settled`);
}

/**
 * Worker 1 is terminated while it works through its share (many tasks, each adding 1 to the
 * same block); worker 0 has a short share.
 */
async function terminatedMidCall(kind: MemoryKind): Promise<void> {
  const r = await rig(kind);
  try {
    const b = blocks(r, 2);
    const rounds = 400;
    // Even tasks go to worker 0 (64 floats each), odd ones to worker 1 (whole blocks).
    const tasks = Array.from(
      { length: 2 * rounds },
      (_, i) => i % 2 === 0 ? addTask(r, b.at(0), 1, 64) : addTask(r, b.at(1), 1),
    );
    let killed = false;
    const kill = () => {
      if (killed) return;
      killed = true;
      void r.spawned[1].terminate();
    };
    // Copied: when worker 1's first result lands, its next task is on its way or running.
    r.onWrite = (offset) => void (offset === b.at(1) && kill());
    const call = run(r, tasks);
    const outcome = call.then(() => null, (error: Error) => error);
    if (kind === "shared") {
      // Shared: as soon as worker 1's block shows its first task's work.
      while (b.block(1)[BLOCK - 1] === 0 && !killed) await pause(0);
      kill();
    }
    const error = await outcome;
    r.onWrite = () => {};
    // The pool has seen the worker go (its own handler runs first) before the next call.
    await r.spawned[1].lost.catch(() => {});
    const ran = b.block(1)[0];
    check(ran >= 1, `worker 1 ran ${ran} tasks before it was terminated`);
    if (error === null) {
      // A browser lets a terminated worker's running list go on (Chromium: for about 2 s); when
      // the list ends in that time the call's work is whole and the call resolves.
      check(
        kind === "shared" && ran === rounds,
        `the call resolved with ${ran} of ${rounds} tasks run`,
      );
    } else {
      check(/A worker of the pool stopped/.test(String(error)), `unexpected error: ${error}`);
    }
    // Copied results land whole; on shared memory a host that stops the thread at once (Node)
    // may stop it in the middle of a block.
    if (kind === "copied") check(b.whole(1), "worker 1's block is half written");
    await staysStill(b.view, "a terminated worker's block");
    await nextCallIsRight(r);
    check(
      r.spawned.length === 3,
      `${r.spawned.length} workers started (expected 2 and 1 replacement)`,
    );
    await staysStill(b.view, "after the replacement ran");
    b.free();
  } finally {
    await r.pool.terminate();
  }
}

/**
 * Web workers on shared memory: worker 1 is terminated while one task list of ~10 s runs. The
 * browser lets it go on for a while, then kills the thread mid-list (Chromium: after about 2 s),
 * so its list never says it is done; the call must still reject, once the thread is gone, and
 * memory must not change after that.
 */
async function killedMidLongList(): Promise<void> {
  const r = await rig("shared");
  try {
    const size = 768; // one task: 768³ multiply-adds, 10-30 ms
    const a = r.heap.alloc(size * size * 4), packed = r.heap.alloc(size * size * 4);
    const c = r.heap.alloc(size * size * 4);
    // The kernel's scratch (matmul_rows_scratch_f32(): a packed block of A, alpha and beta, a
    // tile; ~72 KiB).
    const scratch = r.heap.alloc(1 << 17);
    new Float32Array(r.memory.buffer, a, size * size).fill(1);
    new Float32Array(r.memory.buffer, packed, size * size).fill(1);
    const out = () => new Float32Array(r.memory.buffer, c, size * size);
    out().fill(0);
    const b = blocks(r, 1);
    const product: Task = {
      kernel: "matmul_rows_f32",
      args: [a, packed, c, size, size, 0, size, size, 1, 1, 0, scratch],
    };
    // Worker 0 gets small additions, worker 1 600 products (one doorbell piece, ~10 s).
    const tasks = Array.from(
      { length: 1200 },
      (_, i) => i % 2 === 0 ? addTask(r, b.at(0), 1, 64) : product,
    );
    const call = run(r, tasks);
    const outcome = rejection(call, "the call whose worker was killed mid-list");
    while (out()[size * size - 1] === 0) await pause(1);
    void r.spawned[1].terminate();
    const error = await outcome;
    check(/A worker of the pool stopped/.test(String(error)), `unexpected error: ${error}`);
    await staysStill(out, "the killed worker's output");
    await nextCallIsRight(r);
    check(
      r.spawned.length === 3,
      `${r.spawned.length} workers started (expected 2 and 1 replacement)`,
    );
    b.free();
  } finally {
    await r.pool.terminate();
  }
}

/** A task that traps: an access far outside memory, or an integer division by zero. */
function trappingTask(r: Rig, trap: "out of bounds" | "divide by zero"): Task {
  if (trap === "out of bounds") {
    return { kernel: "diffusion_combine2_f32", args: [BEYOND, BLOCK, BEYOND, 1, r.ones, 1] };
  }
  // linear_forward_f32 with kvHeads = 0 divides heads by zero before touching memory (and its
  // buffers lie beyond memory, should it ever get that far).
  const [o, q, k, v, scratch] = [BEYOND, BEYOND, BEYOND, BEYOND, BEYOND];
  // deno-fmt-ignore
  const args = [o, q, k, v, scratch, /* heads */ 1, /* kvHeads */ 0, 1, 1, 4, 4, 0, 0, 1, 0, 1, 0, 0];
  return { kernel: "linear_forward_f32", args };
}

/** Task 5 of 8 (worker 1's third) traps; the tasks after it in that share never run. */
async function trapMidList(
  kind: MemoryKind,
  trap: "out of bounds" | "divide by zero",
): Promise<void> {
  const r = await rig(kind);
  try {
    const b = blocks(r, 8);
    const tasks = Array.from(
      { length: 8 },
      (_, j) => j === 5 ? trappingTask(r, trap) : addTask(r, b.at(j), j + 1),
    );
    const error = await rejection(run(r, tasks), "a call with a trapping task");
    check(
      error instanceof WebAssembly.RuntimeError,
      `expected a WebAssembly.RuntimeError but found ${error}`,
    );
    const pattern = trap === "out of bounds" ? /out of bounds/ : /divide by zero|division by zero/;
    check(
      error.message.includes(`WASM kernel "${tasks[5].kernel}" failed`) &&
        pattern.test(error.message),
      `the error names neither the kernel nor the trap: ${error.message}`,
    );
    for (let j = 0; j < 8; j++) {
      const first = b.block(j)[0];
      check(
        b.whole(j) && (first === 0 || first === j + 1),
        `block ${j} holds ${first}, half written or wrong`,
      );
    }
    check(
      b.block(1)[0] === 2 && b.block(3)[0] === 4,
      "worker 1's tasks before the trap did not run",
    );
    check(b.block(7)[0] === 0, "worker 1 ran a task after the one that trapped");
    await staysStill(b.view, "after a trap");
    await nextCallIsRight(r);
    check(r.spawned.length === 2, "a trap should not cost a worker, yet one was replaced");
    b.free();
  } finally {
    await r.pool.terminate();
  }
}

/** Copied memory: a task whose regions lie beyond a worker's maximum (4 MiB) cannot grow it. */
async function workerMemoryFull(): Promise<void> {
  const r = await rig("copied", 64);
  try {
    const low = blocks(r, 2);
    // A block past 4 MiB of the caller's memory: the workers must grow their private memories
    // to the same offset to run it.
    const pad = r.heap.alloc(5 * 1024 * 1024);
    const high = blocks(r, 1);
    check(high.at(0) > 64 * PAGE, `the high block is at ${high.at(0)}`);
    const tasks = [addTask(r, low.at(0), 1), addTask(r, high.at(0), 7), addTask(r, low.at(1), 2)];
    const error = await rejection(run(r, tasks), "a task beyond the workers' memory");
    check(error instanceof RangeError, `expected a RangeError but found ${error}`);
    check(
      /WASM memory could not grow/.test(error.message) &&
        error.message.includes("diffusion_combine2_f32"),
      `the error does not say that memory could not grow: ${error.message}`,
    );
    check(high.block(0)[0] === 0 && high.whole(0), "the block beyond the limit was written");
    high.free();
    r.heap.free(pad);
    low.free();
    await nextCallIsRight(r);
    check(r.spawned.length === 2, "memory that could not grow should not cost a worker");
  } finally {
    await r.pool.terminate();
  }
}

/** A runtime of two workers whose memories are capped at `pages`. */
async function cappedRuntime(kind: MemoryKind, pages: number): Promise<WasmRuntime> {
  const variant = kind === "shared" ? "simd-shared" : "simd";
  return await WasmRuntime.create({
    module: await loadWasmModule(variant),
    variant,
    threads: 2,
    features: await detectFeatures(),
    maximumPages: pages,
  });
}

/** Two tasks through the runtime: blocks of `floats` get 3 and 4 (ones from a third block). */
async function runtimeCallIsRight(rt: WasmRuntime, floats: number): Promise<void> {
  await rt.scope(async (s) => {
    const ones = s.put(new Float32Array(floats).fill(1));
    const out = [s.zeros(floats * 4), s.zeros(floats * 4)];
    await rt.run(out.map((o, j) => ({
      kernel: "diffusion_combine2_f32",
      args: [o, floats, o, 1, ones, j + 3],
      inputs: [[o, floats * 4], [ones, floats * 4]],
      outputs: [[o, floats * 4]],
    })));
    for (let j = 0; j < 2; j++) {
      const got = s.f32(out[j], floats);
      check(
        got.every((v) => v === j + 3),
        `block ${j} of the next call is not ${j + 3} everywhere`,
      );
    }
  });
}

/**
 * The heap's memory at its maximum, then the engine refusing pages below it: each allocation
 * fails with a RangeError about memory and changes nothing; the next call is right.
 */
async function heapMemoryFull(kind: MemoryKind): Promise<void> {
  const pages = 128; // 8 MiB
  const rt = await cappedRuntime(kind, pages);
  try {
    let before = 0;
    const error = await rejection(
      rt.scope((s) => {
        s.alloc(2 << 20);
        before = rt.memory.buffer.byteLength;
        s.alloc(16 << 20);
      }),
      "an allocation beyond the maximum",
    );
    check(
      error instanceof RangeError && /WASM memory is full/.test(error.message),
      `unexpected error: ${error}`,
    );
    check(
      rt.heap.stats.inUse === 0,
      `${rt.heap.stats.inUse} bytes still allocated after the scope`,
    );
    check(rt.memory.buffer.byteLength === before, "memory grew for an allocation that failed");
    await runtimeCallIsRight(rt, 1 << 16);

    // Below the maximum, the engine refuses to grow (as when the host is out of memory).
    const size = rt.memory.buffer.byteLength;
    const grow = rt.memory.grow;
    let asked = 0;
    Object.defineProperty(rt.memory, "grow", {
      configurable: true,
      value: () => {
        asked++;
        throw new RangeError("WebAssembly.Memory.grow(): Unable to grow instance memory");
      },
    });
    try {
      const refused = await rejection(
        rt.scope((s) => void s.alloc(size)),
        "an allocation the engine refuses",
      );
      check(
        refused instanceof RangeError && /WASM memory could not grow/.test(refused.message) &&
          /Unable to grow instance memory/.test(refused.message),
        `unexpected error: ${refused}`,
      );
      check(
        asked === 2,
        `the heap asked for pages ${asked} times (expected the grant, then the least)`,
      );
      check(rt.heap.stats.inUse === 0, "the refused allocation left blocks allocated");
      // What the heap already had is still there to use.
      await runtimeCallIsRight(rt, 1 << 16);
    } finally {
      delete (rt.memory as { grow?: unknown }).grow;
    }
    check(rt.memory.grow === grow, "the engine's grow was not restored");
    // Once the engine gives pages again, a call that needs them runs.
    await runtimeCallIsRight(rt, (size >> 2) / 2);
    check(rt.memory.buffer.byteLength > size, "memory did not grow once the engine allowed it");
  } finally {
    await rt.dispose();
  }
}

/** Public calls on a runtime capped at 4 MiB: too big is a RangeError naming the argument. */
async function tooBigForMemory(threads: number): Promise<void> {
  setWasmMaximumPages(64);
  try {
    await init({ threads });
    const rt = (await wasmRuntime())!;
    const before = rt.memory.buffer.byteLength;
    const peak = rt.heap.stats.peak;
    // 1024 × 1024 floats: 4 MiB for "a" alone.
    const big = { data: new Float32Array(1024 * 1024), shape: [1024, 1024] };
    const small = { data: new Float32Array(1024 * 4).fill(1), shape: [1024, 4] };
    const tooBig = await rejection(
      matmul(big, small, { backend: "wasm" }),
      "a matmul too big for WASM memory",
    );
    check(
      tooBig instanceof RangeError && /"a"/.test(tooBig.message) &&
        /WASM memory/.test(tooBig.message),
      `expected a RangeError naming "a" but found ${tooBig}`,
    );
    // Attention: q, k and v of 1.5 MiB each, 6 MiB with the output.
    const qkv = () => ({ data: new Float32Array(1 * 4 * 1536 * 64), shape: [1, 4, 1536, 64] });
    const attention = await rejection(
      scaledDotProductAttention(qkv(), qkv(), qkv(), { backend: "wasm" }),
      "attention too big for WASM memory",
    );
    check(
      attention instanceof RangeError && /"(q|k|v)"/.test(attention.message),
      `expected a RangeError naming q, k or v but found ${attention}`,
    );
    check(
      rt.heap.stats.peak === peak && rt.memory.buffer.byteLength === before,
      "memory was allocated before the check",
    );
    // The next call is right.
    const a = {
      data: Float32Array.from({ length: 64 * 32 }, (_, i) => (i % 7) - 3),
      shape: [64, 32],
    };
    const b = {
      data: Float32Array.from({ length: 32 * 16 }, (_, i) => (i % 5) - 2),
      shape: [32, 16],
    };
    const [got, want] = [
      await matmul(a, b, { backend: "wasm" }),
      await matmul(a, b, { backend: "js" }),
    ];
    check(
      got.data.every((v, i) => v === want.data[i]),
      "the next matmul differs from the reference",
    );
  } finally {
    setWasmMaximumPages(null);
    await dispose();
  }
}

/**
 * The cases for this host: both memory kinds where a shared WebAssembly.Memory exists (Deno,
 * Node, a cross-origin-isolated page), copied memory alone elsewhere.
 */
export async function faultCases(): Promise<FaultCase[]> {
  const features = await detectFeatures();
  const kinds: MemoryKind[] = features.sharedMemory ? ["copied", "shared"] : ["copied"];
  const cases: FaultCase[] = [];
  for (const kind of kinds) {
    cases.push(
      {
        name: `a worker terminated mid-call rejects the call and is replaced (${kind} memory)`,
        run: () => terminatedMidCall(kind),
      },
      {
        name:
          `an out-of-bounds trap mid-list rejects with a RuntimeError; the next call is right (${kind} memory)`,
        run: () => trapMidList(kind, "out of bounds"),
      },
      {
        name:
          `a divide-by-zero trap mid-list rejects with a RuntimeError; the next call is right (${kind} memory)`,
        run: () => trapMidList(kind, "divide by zero"),
      },
      {
        name:
          `memory.grow failing in the heap is a RangeError that changes nothing (${kind} memory)`,
        run: () => heapMemoryFull(kind),
      },
    );
  }
  if (features.workers === "web" && features.sharedMemory) {
    cases.push({
      name:
        "a web worker killed in the middle of a long task list fails the call once its thread is gone (shared memory)",
      run: () => killedMidLongList(),
    });
  }
  cases.push(
    {
      name: "a worker's memory.grow failing is a RangeError; the worker stays (copied memory)",
      run: () => workerMemoryFull(),
    },
    {
      name:
        "a public call too big for WASM memory is a RangeError before any allocation (1 thread)",
      run: () => tooBigForMemory(1),
    },
    {
      name:
        "a public call too big for WASM memory is a RangeError before any allocation (2 workers)",
      run: () => tooBigForMemory(2),
    },
  );
  return cases;
}

/** What one case gave, as plain data (it crosses from a page to the harness). */
export interface FaultResult {
  name: string;
  ok: boolean;
  error?: string;
}

/** Runs every case with a time limit each, so a pool that hangs fails its case, not the suite. */
export async function runFaultCases(limitMs: number): Promise<FaultResult[]> {
  const results: FaultResult[] = [];
  for (const c of await faultCases()) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`No outcome within ${limitMs} ms`)), limitMs);
    });
    try {
      await Promise.race([c.run(), limit]);
      results.push({ name: c.name, ok: true });
    } catch (error) {
      results.push({ name: c.name, ok: false, error: String((error as Error)?.stack ?? error) });
    } finally {
      clearTimeout(timer);
    }
  }
  return results;
}
