/**
 * The WASM attention kernels: the shared conformance suite on both builds (plain and relaxed
 * SIMD), bit-identical results for any worker count, and the accuracy of the vectorised exp.
 */
import assert from "node:assert/strict";
import { dispose, init } from "../../src/runtime/mod.ts";
import { wasmRuntime } from "../../src/runtime/runtime.ts";
import type { WasmRuntime } from "../../src/runtime/_wasm.ts";
import { wasmRuntimeOf, watchCalls, watchSplits, withCores } from "../_wasm_runtime.ts";
import type { AttentionKernels } from "../../src/backends/attention.ts";
import { callerFirst, wasmAttention } from "../../src/backends/wasm/attention.ts";
import { CallerShare, faultShares, FreshFaults } from "../../src/backends/wasm/_lanes.ts";
import {
  attentionConformance,
  flashArgs,
  linearArgs,
  mixedArgs,
  randomQkv,
} from "./_conformance.ts";
import { assertSameBits, randomTensor } from "./_naive.ts";
import {
  currentEngine,
  isJavaScriptCore,
  isSpiderMonkey,
  tuneInstance,
} from "../../src/runtime/_engine.ts";

async function runtimeWith(threads: number, relaxedSimd = true): Promise<WasmRuntime> {
  await init({ threads, relaxedSimd });
  const runtime = await wasmRuntime();
  assert.ok(runtime !== null, "this host has WebAssembly SIMD");
  return runtime;
}

for (const relaxedSimd of [false, true]) {
  attentionConformance({
    label: `wasm (${relaxedSimd ? "relaxed" : "plain"} SIMD)`,
    setup: async () => wasmAttention(await runtimeWith(1, relaxedSimd)),
    teardown: dispose,
    // float32 accumulation over up to 128 terms, and exp2 with 1.9e-7 relative error.
    tolerance: { atol: 2e-5, rtol: 2e-4 },
  });
}

/**
 * Flash (causal, mask, LSE), causal linear and causal mixed-chunk outputs, each big enough to
 * split (above 2^26 flops), and a flash call big enough that on copied memory the calling
 * thread leaves it to the workers (over 2^28 flops a lane on two threads).
 */
async function computeAll(kernels: AttentionKernels): Promise<Float32Array[]> {
  const { q, k, v } = randomQkv([2, 4, 2, 400, 460, 32, 24], 91);
  const mask = randomTensor([2, 1, 400, 460], 92);
  const linQ = randomTensor([2, 4, 1300, 16], 93), linK = randomTensor([2, 2, 1300, 16], 94);
  const bias = randomTensor([48, 48], 96);
  const square = randomQkv([2, 4, 2, 1300, 1300, 32, 24], 95);
  const flash = flashArgs(q, k, v, { causal: true, mask, queryBlock: 16 });
  await kernels.flashForward(flash);
  const linear = linearArgs(square.q, square.k, square.v, { causal: true, chunkSize: 32 });
  await kernels.linearForward(linear);
  const mixedOpts = { chunkSize: 48, causal: true, linQ, linK, bias };
  const mixed = mixedArgs(square.q, square.k, square.v, mixedOpts);
  await kernels.mixedChunkForward(mixed);
  const wide = randomQkv([1, 8, 8, 512, 600, 64, 64], 97);
  const big = flashArgs(wide.q, wide.k, wide.v, { causal: false, queryBlock: 16 });
  await kernels.flashForward(big);
  return [flash.out, flash.lse!, linear.out, mixed.out, big.out];
}

Deno.test("wasm attention kernels give bit-identical results on 1, 2 and 4 workers and copied memory", async () => {
  const results: Float32Array[][] = [];
  for (const threads of [1, 2, 4]) {
    try {
      const runtime = await runtimeWith(threads);
      const splits = watchSplits(runtime);
      results.push(await computeAll(wasmAttention(runtime)));
      // Every call splits where there are workers: one task a thread, whose lanes claim the
      // call's items as they go (linear and mixed-chunk attention have 8, one per batch and
      // head).
      const expected = threads === 1 ? [1, 1, 1, 1] : [threads, threads, threads, threads];
      assert.deepEqual(splits, expected.map((tasks) => [tasks, false]), `${threads} threads`);
    } finally {
      await dispose();
    }
  }
  // Workers on private memories: each task's input regions are copied in and outputs back. The
  // first three calls are short enough for this thread to take a lane (one task a lane); the
  // last goes to the workers alone, four tasks each.
  const copied = await wasmRuntimeOf("relaxed", 2);
  try {
    const splits = watchSplits(copied);
    results.push(await computeAll(wasmAttention(copied)));
    assert.deepEqual(splits, [[2, true], [2, true], [2, true], [8, false]], "copied memory");
  } finally {
    copied.dispose();
  }
  for (const part of results[0]) assert.ok(part.every((x) => !Number.isNaN(x)));
  const labels = ["1 worker", "2 workers", "4 workers", "2 workers on copied memory"];
  for (let r = 1; r < results.length; r++) {
    results[r].forEach((part, p) =>
      assertSameBits(part, results[0][p], `${labels[r]}, output ${p}`)
    );
  }
});

Deno.test("wasm attention into a fresh output on copied memory: this thread's lane is sized from the last calls, the same bits", async () => {
  // B 1, H 8, N 512, D 64: 2^29 flops, 2^28 a lane on two threads, short enough for this
  // thread to take one (as a plain page's thread does), which it starts by faulting in the
  // fresh output's pages (256 of them); 64 items of 64 query rows.
  const { q, k, v } = randomQkv([1, 8, 8, 512, 512, 64, 64], 98);
  const call = async (kernels: AttentionKernels) => {
    const args = flashArgs(q, k, v, { causal: false, lse: false });
    await kernels.flashForward(args);
    return args.out;
  };
  const alone = await wasmRuntimeOf("relaxed", 1);
  const expected = await call(wasmAttention(alone)).finally(() => alone.dispose());
  const copied = await wasmRuntimeOf("relaxed", 2);
  try {
    const items = watchCalls(copied, (tasks) => tasks.map((task) => task.args.slice(18, 20)));
    // Without timings, an even lane.
    const fresh = await call(wasmAttention(copied));
    assert.deepEqual(items[0], [[0, 32], [32, 64]]);
    // As learnt from a call whose 256 pages took this thread 3 ms and its lane of 1e8 flops 7
    // ms more: fewer items than the worker's.
    const page = new CallerShare();
    page.record(3, 256, [10, NaN], [1e8, 1e8]);
    const mine = callerFirst(0, 64, page.fraction(2, 2 ** 29, 256), 2)[0][1];
    assert.ok(mine > 0 && mine < 32, `this thread's items: ${mine}`);
    const shares = {
      flash: { ...faultShares(), page },
      linear: faultShares(),
      mixed: faultShares(),
    };
    const learnt = await call(wasmAttention(copied, shares));
    assert.deepEqual(items[1], [[0, mine], [mine, 64]]);
    assertSameBits(fresh, expected, "an even lane");
    assertSameBits(learnt, expected, "a learnt lane");
  } finally {
    copied.dispose();
  }
});

Deno.test("wasm attention into a fresh output on copied memory, lanes the workers' alone: the first worker's fresh array becomes the output, the same bits", async () => {
  // B 1, H 8, N 1024, D 64: 2^31 flops, 2^30 a lane on two threads, longer than this thread
  // takes one of, so both lanes are the workers'; 128 items of 64 query rows.
  const { q, k, v } = randomQkv([1, 8, 8, 1024, 1024, 64, 64], 99);
  const call = async (kernels: AttentionKernels, freshOutput: boolean) => {
    const args = { ...flashArgs(q, k, v, { causal: true }), freshOutput };
    const result = await kernels.flashForward(args);
    return { args, result };
  };
  const alone = await wasmRuntimeOf("relaxed", 1);
  const expected = await call(wasmAttention(alone), false).finally(() => alone.dispose());
  assert.equal(expected.result, undefined);
  const copied = await wasmRuntimeOf("relaxed", 2);
  try {
    const seen = watchCalls(copied, (tasks) => ({
      items: tasks.map((task) => task.args.slice(18, 20)),
      fresh: tasks[0].fresh,
    }));
    // This thread's fresh arrays fault in (as in V8 and SpiderMonkey): 512 pages in 6 ms.
    const faults = new FreshFaults();
    faults.record(6, 512);
    const kernels = wasmAttention(copied, {
      flash: { ...faultShares(), faults },
      linear: faultShares(),
      mixed: faultShares(),
    });
    for (let i = 0; i < 2; i++) {
      const { args, result } = await call(kernels, true);
      assert.ok(result instanceof Float32Array && result !== args.out, `call ${i}: a fresh array`);
      assert.equal(result.buffer.byteLength, args.out.byteLength);
      assertSameBits(result, expected.args.out, `call ${i}: the output`);
      assertSameBits(args.lse!, expected.args.lse!, `call ${i}: the log-sum-exp, written in place`);
      assert.ok(args.out.every(Number.isNaN), `call ${i}: the array lent is left alone`);
    }
    // Even lanes while nothing is learnt (the second call's follow the first's timings).
    const fresh = { bytes: 1024 * 8 * 64 * 4, at: 0 };
    assert.deepEqual(seen[0], { items: [[0, 64], [64, 128]], fresh });
    // As learnt from a call whose first worker faulted 512 pages in 6 ms and ran 1e8 flops in
    // 14 ms more, the other 1e8 in 14 ms: fewer items for the first worker (2^31 flops).
    const worker = new CallerShare();
    worker.record(6, 512, [20, 14], [1e8, 1e8]);
    const mine = callerFirst(0, 128, worker.fraction(2, 2 ** 31, 512), 2)[0][1];
    assert.ok(mine > 0 && mine < 64, `the first worker's items: ${mine}`);
    const shares = {
      flash: { ...faultShares(), faults, worker },
      linear: faultShares(),
      mixed: faultShares(),
    };
    const learnt = await call(wasmAttention(copied, shares), true);
    assertSameBits(learnt.result as Float32Array, expected.args.out, "a learnt lane");
    assert.deepEqual(seen[2], { items: [[0, mine], [mine, 128]], fresh });
    // Without freshOutput (an output lent), the output is written in place, the lanes as before.
    const { args, result } = await call(kernels, false);
    assert.equal(result, undefined);
    assertSameBits(args.out, expected.args.out, "into the array lent");
    assert.equal(seen[3].fresh, undefined);
  } finally {
    copied.dispose();
  }
});

Deno.test("wasm linear attention into a fresh output on copied memory with fewer items than workers: the output written in place, the same bits", async () => {
  // B 1, H 2, N 8200, D 128: 2 items, 2^28 flops a lane and more on four threads (the
  // workers' lanes alone), too few items for a lane a worker: no worker takes the faults.
  const { q, k, v } = randomQkv([1, 2, 2, 8200, 8200, 128, 128], 100);
  const call = async (kernels: AttentionKernels) => {
    const args = { ...linearArgs(q, k, v, { causal: false, chunkSize: 64 }), freshOutput: true };
    return { args, result: await kernels.linearForward(args) };
  };
  const alone = await wasmRuntimeOf("relaxed", 1);
  const expected = await call(wasmAttention(alone)).finally(() => alone.dispose());
  // Four lanes (the host reporting 8 cores), whatever this host's cores.
  const copied = await withCores(8, () => wasmRuntimeOf("relaxed", 4));
  try {
    const faults = new FreshFaults();
    faults.record(6, 512);
    const shares = {
      flash: faultShares(),
      linear: { ...faultShares(), faults },
      mixed: faultShares(),
    };
    const { args, result } = await call(wasmAttention(copied, shares));
    assert.ok(result === undefined, "no fresh array of a worker's");
    assertSameBits(args.out, expected.args.out, "four workers, two items");
  } finally {
    copied.dispose();
  }
});

Deno.test("flash_forward_f32 with a claim word runs the items that its lane claims, whichever lane claims them", async () => {
  const runtime = await wasmRuntimeOf("relaxed", 1);
  try {
    // B 1, H 2, N 40, D 8 in blocks of 8 rows: 10 items of 8 rows each.
    const H = 2, N = 40, D = 8, Br = 8, items = H * (N / Br);
    const [q, k, v] = [5, 6, 7].map((seed) => randomTensor([1, H, N, D], seed).data);
    await runtime.scope((s) => {
      const [qp, kp, vp] = [q, k, v].map((x) => s.put(x));
      const out = s.alloc(q.byteLength), claim = s.alloc(4);
      const scratch = s.alloc(runtime.call("flash_forward_scratch_f32", D, D, Br, N) as number);
      const claims = new Int32Array(runtime.memory.buffer, claim, 1);
      const lane = (word: number) =>
        // deno-fmt-ignore
        runtime.call("flash_forward_f32", out, 0, qp, kp, vp, 0, scratch, H, H, N, N, D, D, 0, 0, 0,
          1, Br, 0, items, 1 / Math.sqrt(D), 0, word);
      const result = () => s.f32(out, q.length).slice();
      lane(0);
      const whole = result();
      // Another lane has claimed the first 3 items: this one runs items 3 … 9, leaves the rows
      // of items 0 … 2 alone (NaN here), and moves the word past the end.
      s.f32(out, q.length).fill(NaN);
      claims[0] = 3;
      lane(claim);
      const rest = result();
      assert.equal(claims[0], items + 1);
      for (let row = 0; row < H * N; row++) {
        const got = rest.subarray(row * D, (row + 1) * D);
        if (Math.floor(row / Br) < 3) assert.ok(got.every(Number.isNaN), `row ${row} untouched`);
        else assertSameBits(got, whole.subarray(row * D, (row + 1) * D), `row ${row}`);
      }
      // A lane that comes once every item is claimed runs none.
      s.f32(out, q.length).fill(NaN);
      lane(claim);
      assert.ok(result().every(Number.isNaN));
      assert.equal(claims[0], items + 2);
    });
  } finally {
    runtime.dispose();
  }
});

Deno.test("linear_forward_f32 and mixed_chunk_forward_f32 with a claim word run the (batch, head) items that their lane claims", async () => {
  const runtime = await wasmRuntimeOf("relaxed", 1);
  try {
    // B 1, H 4, N 40, D 8: 4 items, one a head; causal, chunks of 8 rows.
    const H = 4, N = 40, D = 8, C = 8;
    const [q, k, v] = [15, 16, 17].map((seed) => randomTensor([1, H, N, D], seed).data);
    await runtime.scope((s) => {
      const [qp, kp, vp] = [q, k, v].map((x) => s.put(x));
      const out = s.alloc(q.byteLength), claim = s.alloc(4);
      const claims = new Int32Array(runtime.memory.buffer, claim, 1);
      const linearScratch = s.alloc(runtime.call("linear_forward_scratch_f32", D, D, C) as number);
      const mixedScratch = s.alloc(
        runtime.call("mixed_chunk_forward_scratch_f32", D, D, 0) as number,
      );
      const kernels: Record<string, (word: number) => void> = {
        // deno-fmt-ignore
        linear: (word) => runtime.call("linear_forward_f32", out, qp, kp, vp, linearScratch, H, H,
          N, N, D, D, 1, 0, C, 0, H, 0, word),
        // deno-fmt-ignore
        mixed: (word) => runtime.call("mixed_chunk_forward_f32", out, qp, kp, vp, 0, 0, 0,
          mixedScratch, H, H, N, D, D, 0, C, 1, 0, 0, 0, 0, H, 0, word),
      };
      for (const [name, lane] of Object.entries(kernels)) {
        const result = () => s.f32(out, q.length).slice();
        lane(0);
        const whole = result();
        // Another lane has claimed item 0: this one runs heads 1 … 3 and leaves head 0's rows
        // alone (NaN here), moving the word past the end.
        s.f32(out, q.length).fill(NaN);
        claims[0] = 1;
        lane(claim);
        const rest = result();
        assert.equal(claims[0], H + 1, name);
        const head = N * D;
        assert.ok(rest.subarray(0, head).every(Number.isNaN), `${name}: head 0 untouched`);
        assertSameBits(rest.subarray(head), whole.subarray(head), `${name}: heads 1 … 3`);
      }
    });
  } finally {
    runtime.dispose();
  }
});

/** Runs the exported exp kernel on `x` (base 2 when `binary`). */
async function wasmExp(
  runtime: WasmRuntime,
  x: Float32Array,
  binary: boolean,
): Promise<Float32Array> {
  return await runtime.scope((s) => {
    const input = s.put(x), output = s.alloc(x.byteLength);
    runtime.call("exp_f32_array", input, output, x.length, binary ? 1 : 0);
    return s.f32(output, x.length).slice();
  });
}

Deno.test("wasm exp2 has max relative error < 2.5e-7 (~2 ulp); exp < 6e-6 over |x| <= 87", async () => {
  for (const relaxedSimd of [false, true]) {
    const runtime = await runtimeWith(1, relaxedSimd);
    try {
      // 2^t over its whole normal range, on a grid that hits every fraction pattern often.
      const t = Float32Array.from({ length: 400_003 }, (_, i) => -126 + (253 * i) / 400_002);
      const y = await wasmExp(runtime, t, true);
      let worst2 = 0;
      for (let i = 0; i < t.length; i++) worst2 = Math.max(worst2, Math.abs(y[i] / 2 ** t[i] - 1));
      assert.ok(worst2 < 2.5e-7, `exp2 max relative error ${worst2}`);
      // e^x = 2^(x·log2 e): rounding x·log2 e to f32 adds up to |x|·2^-24 relative error.
      const x = Float32Array.from({ length: 100_001 }, (_, i) => -87 + (174 * i) / 100_000);
      const e = await wasmExp(runtime, x, false);
      let worstE = 0;
      for (let i = 0; i < x.length; i++) {
        worstE = Math.max(worstE, Math.abs(e[i] / Math.exp(x[i]) - 1));
      }
      assert.ok(worstE < 6e-6, `exp max relative error ${worstE}`);
      const edges = await wasmExp(
        runtime,
        new Float32Array([0, 1, -1, -Infinity, -126.5, -200, NaN, 3, 0.5]),
        true,
      );
      assert.deepEqual([...edges.subarray(0, 8)], [1, 2, 0.5, 0, 0, 0, NaN, 8]);
      assert.ok(Math.abs(edges[8] / Math.SQRT2 - 1) < 2.5e-7);
    } finally {
      await dispose();
    }
  }
});

Deno.test("the relaxed build's attention gives the same bits with 4-row query groups (SpiderMonkey's setting) as with 6-row ones", async () => {
  const runtime = await runtimeWith(1);
  try {
    assert.ok(runtime.variant.startsWith("relaxed"), runtime.variant);
    const wide = await computeAll(wasmAttention(runtime));
    runtime.call("attention_set_wide_rows", 0);
    const narrow = await computeAll(wasmAttention(runtime));
    runtime.call("attention_set_wide_rows", 1);
    narrow.forEach((part, p) => assertSameBits(part, wide[p], `output ${p}`));
  } finally {
    await dispose();
  }
});

for (const relaxedSimd of [false, true]) {
  Deno.test(`the ${relaxedSimd ? "relaxed" : "plain"} build's attention gives the same bits with its 4-row micro-kernels splatting by scalar loads (JavaScriptCore's setting on x86)`, async () => {
    const runtime = await runtimeWith(1, relaxedSimd);
    try {
      // The relaxed build's groups are 4 rows too where they are narrow (SpiderMonkey's).
      if (relaxedSimd) runtime.call("attention_set_wide_rows", 0);
      const loads = await computeAll(wasmAttention(runtime));
      runtime.call("simd_set_scalar_splats", 1);
      const scalars = await computeAll(wasmAttention(runtime));
      runtime.call("simd_set_scalar_splats", 0);
      runtime.call("attention_set_wide_rows", 1);
      scalars.forEach((part, p) => assertSameBits(part, loads[p], `output ${p}`));
    } finally {
      await dispose();
    }
  });
}

Deno.test("tuneInstance() sets 4-row attention groups on SpiderMonkey, scalar splats on JavaScriptCore over x86, nothing elsewhere", () => {
  const instance = (nanSign: number) => {
    const calls: Array<[string, number[]]> = [];
    const exports = {
      attention_set_wide_rows: (...args: number[]) => void calls.push(["wide", args]),
      simd_set_scalar_splats: (...args: number[]) => void calls.push(["splats", args]),
      simd_nan_sign: () => nanSign,
    };
    return { exports, calls };
  };
  for (const nanSign of [0, 1]) {
    const other = instance(nanSign);
    tuneInstance(other.exports, "other");
    assert.deepEqual(other.calls, []);
    const firefox = instance(nanSign);
    tuneInstance(firefox.exports, "spidermonkey");
    assert.deepEqual(firefox.calls, [["wide", [0]]]);
  }
  const x86 = instance(1), arm = instance(0);
  tuneInstance(x86.exports, "javascriptcore");
  tuneInstance(arm.exports, "javascriptcore");
  assert.deepEqual(x86.calls, [["splats", [1]]]);
  assert.deepEqual(arm.calls, []);
  // Deno runs V8: neither InternalError nor errors with their own line and sourceURL.
  assert.equal(isSpiderMonkey(), false);
  assert.equal(isJavaScriptCore(), false);
  assert.equal(currentEngine(), "other");
  // An instance without the kernels (an older build) is left alone.
  tuneInstance({}, "spidermonkey");
  tuneInstance({}, "javascriptcore");
});
