/**
 * Conformance of every matmul backend, the JS reference included, to the definition in float64: shapes 0, 1, lanes − 1, several
 * blocks plus a tail, non-square, every transpose, alpha/beta, both WASM builds, 1/2/4 workers
 * and workers on copied memory (bit-identical), WebGPU on whatever adapter the host has.
 */
import assert from "node:assert/strict";
import { dispose, init, matmul, type Tensor } from "../../src/mod.ts";
import { skippable } from "../_skip.ts";
import { WEBGPU_SKIP } from "../_webgpu.ts";
import { wasmRuntimeOf, watchCalls, watchSplits, withCores } from "../_wasm_runtime.ts";
import { wasmMatmul } from "../../src/backends/wasm/matmul.ts";
import { CallerShare, faultShares, FreshFaults } from "../../src/backends/wasm/_lanes.ts";
import { wasmRuntime } from "../../src/runtime/runtime.ts";
import { gpuDevice } from "../../src/runtime/_gpu.ts";
import {
  matmulDispatch,
  type MatmulShader,
  webgpuMatmul,
} from "../../src/backends/webgpu/matmul.ts";

function random(shape: number[], seed: number): Tensor {
  const n = shape[0] * shape[1];
  const data = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s / 2 ** 32) * 2 - 1;
  }
  return { data, shape };
}

/** [m, k, n]: empty, single, lanes − 1, sub-block, several micro-kernel blocks + tails, > KC. */
const SHAPES: Array<[number, number, number]> = [
  [0, 3, 4], [3, 0, 4], [4, 3, 0], [1, 1, 1], [3, 3, 3], [4, 8, 8], [7, 5, 9], [17, 33, 15],
  [64, 64, 64], [67, 300, 29], [130, 257, 70],
];

/**
 * The definition, written here apart from the reference kernel: C[i, j] = α Σ_p op(A)[i, p] ·
 * op(B)[p, j] + β C[i, j], each dot product in float64 (β = 0 ignores C, as BLAS does).
 */
function expected(a: Tensor, b: Tensor, m: number, n: number, k: number, o: {
  transposeA: boolean; transposeB: boolean; alpha: number; beta: number; c?: Tensor;
}): Float32Array {
  const opA = (i: number, p: number) => (o.transposeA ? a.data[p * m + i] : a.data[i * k + p]);
  const opB = (p: number, j: number) => (o.transposeB ? b.data[j * k + p] : b.data[p * n + j]);
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let p = 0; p < k; p++) dot += opA(i, p) * opB(p, j);
      out[i * n + j] = o.alpha * dot + (o.beta === 0 ? 0 : o.beta * o.c!.data[i * n + j]);
    }
  }
  return out;
}

function assertClose(actual: Float32Array, wanted: Float32Array, k: number, label: string) {
  assert.equal(actual.length, wanted.length, label);
  // float32 accumulation over k terms of magnitude <= 1: error grows like sqrt(k)·eps.
  const tolerance = 1e-5 * Math.max(1, Math.sqrt(k)) * 4;
  for (let i = 0; i < actual.length; i++) {
    if (!(Math.abs(actual[i] - wanted[i]) <= tolerance)) {
      assert.fail(`${label}: element ${i} is ${actual[i]}, expected ${wanted[i]}`);
    }
  }
}

async function conformance(backend: "js" | "wasm" | "webgpu", shapes = SHAPES) {
  for (const [m, k, n] of shapes) {
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        const a = random(transposeA ? [k, m] : [m, k], m * 31 + k);
        const b = random(transposeB ? [n, k] : [k, n], n * 17 + k + 5);
        const c = random([m, n], 99);
        for (const [alpha, beta] of [[1, 0], [0.5, -2]]) {
          const opts = { transposeA, transposeB, alpha, beta, c: beta ? c : undefined };
          const got = await matmul(a, b, { ...opts, backend });
          const label = `${backend} m=${m} k=${k} n=${n} tA=${transposeA} tB=${transposeB} β=${beta}`;
          assert.deepEqual(got.shape, [m, n], label);
          assertClose(got.data, expected(a, b, m, n, k, opts), k, label);
        }
      }
    }
  }
}

Deno.test("matmul() js (the reference) matches the definition", async () => {
  await conformance("js");
});

for (const relaxedSimd of [false, true]) {
  Deno.test(`matmul() wasm (${relaxedSimd ? "relaxed" : "plain"} SIMD, 1 thread) matches the reference`, async () => {
    await init({ threads: 1, relaxedSimd });
    try {
      await conformance("wasm");
    } finally {
      await dispose();
    }
  });
}

/** Each product of `cases` ([a, b, transposeB]) through the WASM family on `runtime`. */
async function products(
  runtime: Awaited<ReturnType<typeof wasmRuntimeOf>>,
  cases: Array<[Tensor, Tensor, boolean]>,
): Promise<Float32Array[]> {
  const kernels = wasmMatmul(runtime), out: Float32Array[] = [];
  for (const [a, b, transposeB] of cases) {
    const [m, k] = a.shape, n = transposeB ? b.shape[0] : b.shape[1];
    const c = new Float32Array(m * n);
    await kernels.matmul({
      a: a.data, b: b.data, c, m, n, k, transposeA: false, transposeB, alpha: 1, beta: 0,
    });
    out.push(c);
  }
  return out;
}

/** The products of the thread-count test: [a, b, transposeB]. */
function threadCases(): Array<[Tensor, Tensor, boolean]> {
  const big = random([256, 256], 3);
  return [
    [random([301, 190], 1), random([190, 77], 2), false],
    // Big enough to be split into several tasks across the workers.
    [big, big, true],
    // Past 2^25 multiply-adds a share: each lane's share is cut into tasks of whole 72-row
    // blocks (three on one thread, two a share on two workers, none on four).
    [random([700, 400], 4), random([400, 300], 5), false],
    // Past 2^28 flops a lane on two threads: on copied memory the workers take it all.
    [random([1024, 512], 7), random([512, 600], 8), false],
  ];
}

Deno.test("matmul() wasm gives bit-identical results on 1, 2 and 4 workers and copied memory", async () => {
  const cases = threadCases();
  const results: Float32Array[][] = [];
  for (const threads of [1, 2, 4]) {
    await init({ threads });
    try {
      const run: Float32Array[] = [];
      for (const [a, b, transposeB] of cases) {
        run.push((await matmul(a, b, { backend: "wasm", transposeB })).data);
      }
      if (threads > 1) {
        // Once the runtime is warm (2^32 multiply-adds of matmul), one task a thread, whose lanes
        // claim rows as they go (the first product stays one task: too small to split).
        const square = random([1024, 1024], 6);
        for (let i = 0; i < 4; i++) await matmul(square, square, { backend: "wasm" });
        const splits = watchSplits((await wasmRuntime())!);
        for (const [i, [a, b, transposeB]] of cases.entries()) {
          const warm = await matmul(a, b, { backend: "wasm", transposeB });
          assert.deepEqual(warm.data, run[i], `warm runtime on ${threads} threads, product ${i}`);
        }
        assert.deepEqual(splits.map(([tasks]) => tasks), [1, threads, threads, threads]);
      }
      results.push(run);
    } finally {
      await dispose();
    }
  }
  // Workers on private memories, as on a page without cross-origin isolation: this thread
  // takes a lane of the split calls short enough (one task a lane), not of the last.
  const copied = await wasmRuntimeOf("relaxed", 2);
  try {
    const lanes = watchSplits(copied);
    const run = await products(copied, cases);
    assert.deepEqual(lanes, [[1, true], [2, true], [2, true], [2, false]], "copied memory's tasks");
    results.push(run);
  } finally {
    copied.dispose();
  }
  const labels = ["2 workers", "4 workers", "2 workers on copied memory"];
  for (let r = 1; r < results.length; r++) {
    results[r].forEach((c, i) => assert.deepEqual(c, results[0][i], `${labels[r - 1]}, product ${i}`));
  }
});

for (const variant of ["simd", "relaxed"]) {
  Deno.test(`matmul() wasm (${variant}) gives the same bits with the 4-row micro-kernel splatting by scalar loads (JavaScriptCore's setting on x86)`, async () => {
    const runtime = await wasmRuntimeOf(variant, 1);
    try {
      const cases = threadCases();
      const loads = await products(runtime, cases);
      runtime.call("simd_set_scalar_splats", 1);
      const scalars = await products(runtime, cases);
      runtime.call("simd_set_scalar_splats", 0);
      scalars.forEach((c, i) => assert.deepEqual(c, loads[i], `product ${i}`));
      // Not a vacuous comparison: the products are those of the definition.
      const [a, b] = cases[0];
      const opts = { transposeA: false, transposeB: false, alpha: 1, beta: 0 };
      assertClose(scalars[0], expected(a, b, 301, 77, 190, opts), 190, "product 0");
    } finally {
      runtime.dispose();
    }
  });
}

Deno.test("matmul() wasm on copied memory, four threads over two cores, cuts its calls for two lanes; shared memory keeps a lane a thread; the same bits", async () => {
  const cases = threadCases();
  const alone = await wasmRuntimeOf("relaxed", 1);
  const expected = await products(alone, cases).finally(() => alone.dispose());
  assert.equal(alone.cores, 1);
  for (const variant of ["relaxed", "relaxed-shared"]) {
    const runtime = await withCores(2, () => wasmRuntimeOf(variant, 4));
    try {
      assert.equal(runtime.threads, 4);
      assert.equal(runtime.cores, 2);
      // Shared memory does not take the host's word: until its polls find the cores contended,
      // a lane a thread (after that, half of them; see the contention tests).
      assert.equal(runtime.lanes(), variant === "relaxed" ? 2 : 4, variant);
      const splits = watchSplits(runtime);
      const got = await products(runtime, cases);
      got.forEach((c, i) => assert.deepEqual(c, expected[i], `${variant}, product ${i}`));
      // Copied memory, cut for two lanes, not four: this thread's lane and a worker's, or two
      // workers' (the last product).
      if (variant === "relaxed") assert.deepEqual(splits.map(([count]) => count), [1, 2, 2, 2]);
    } finally {
      await runtime.dispose();
    }
  }
  // A host that reports one core still gets two lanes from a pool; more cores than threads, one
  // lane a thread.
  for (const [cores, lanes] of [[1, 2], [8, 4]]) {
    const runtime = await withCores(cores, () => wasmRuntimeOf("relaxed", 4));
    assert.equal(runtime.lanes(), lanes, `${cores} cores`);
    await runtime.dispose();
  }
});

Deno.test("matmul() wasm into a fresh array on copied memory: this thread's lane, sized from the last call, gives the same bits", async () => {
  // 512³ on two threads: 2^27 flops a lane, short enough for this thread to take one (as a
  // plain page's thread does), which it starts by faulting in the fresh output's pages.
  const [m, n, k] = [512, 512, 512];
  const a = random([m, k], 21).data, b = random([k, n], 22).data;
  const product = async (runtime: Awaited<ReturnType<typeof wasmRuntimeOf>>) => {
    const c = new Float32Array(m * n);
    // deno-fmt-ignore
    await wasmMatmul(runtime).matmul({ a, b, c, m, n, k, transposeA: false, transposeB: false,
      alpha: 1, beta: 0, freshOutput: true });
    return c;
  };
  const alone = await wasmRuntimeOf("relaxed", 1);
  const expected = await product(alone).finally(() => alone.dispose());
  const copied = await wasmRuntimeOf("relaxed", 2);
  try {
    const rows = watchCalls(copied, (tasks) => tasks.map((task) => task.args.slice(5, 7)));
    const kernels = wasmMatmul(copied);
    const calls: Float32Array[] = [];
    for (let i = 0; i < 2; i++) {
      const c = new Float32Array(m * n);
      // deno-fmt-ignore
      await kernels.matmul({ a, b, c, m, n, k, transposeA: false, transposeB: false, alpha: 1,
        beta: 0, freshOutput: true });
      calls.push(c);
    }
    // An even lane while there are no timings; then fewer rows than the worker's, as the pages
    // took this thread's time first.
    assert.deepEqual(rows[0], [[0, 256], [256, 512]]);
    assert.equal(rows[1].length, 2);
    const mine = rows[1][0][1];
    assert.ok(mine > 0 && mine < 256 && mine % 4 === 0, `this thread's rows: ${mine}`);
    assert.deepEqual(rows[1][1], [mine, 512]);
    calls.forEach((c, i) => assert.deepEqual(c, expected, `call ${i}`));
  } finally {
    copied.dispose();
  }
});

Deno.test("matmul() wasm into a fresh array on copied memory, lanes the workers' alone: the first worker's fresh array becomes the result, the same bits", async () => {
  // 1024 × 512 · 512 × 1024 on two threads: 2^29 flops a lane, longer than this thread takes
  // one of (WasmRuntime.laneOnCopied), so both lanes are the workers'.
  const [m, n, k] = [1024, 1024, 512];
  const a = random([m, k], 31).data, b = random([k, n], 32).data;
  const args = (c: Float32Array) => ({
    a, b, c, m, n, k, transposeA: false, transposeB: false, alpha: 1, beta: 0, freshOutput: true,
  });
  const alone = await wasmRuntimeOf("relaxed", 1);
  const expected = new Float32Array(m * n);
  await wasmMatmul(alone).matmul(args(expected)).finally(() => alone.dispose());
  const copied = await wasmRuntimeOf("relaxed", 2);
  try {
    // This thread's fresh arrays fault in (as in V8 and SpiderMonkey): 1,024 pages in 11.5 ms.
    const faults = new FreshFaults();
    faults.record(11.5, 1024);
    const shares = { ...faultShares(), faults };
    const seen = watchCalls(copied, (tasks) => ({
      rows: tasks.map((task) => task.args.slice(5, 7)),
      fresh: tasks[0].fresh,
    }));
    const kernels = wasmMatmul(copied, shares);
    for (let i = 0; i < 2; i++) {
      const c = new Float32Array(m * n);
      const result = await kernels.matmul(args(c));
      assert.ok(result instanceof Float32Array && result !== c, `call ${i}: a fresh array back`);
      assert.equal(result.buffer.byteLength, m * n * 4);
      assert.deepEqual(result, expected, `call ${i}`);
      assert.ok(c.every((x) => x === 0), `call ${i}: the array lent is left alone`);
    }
    // Even lanes while nothing is learnt (the second call's follow the first's timings).
    assert.deepEqual(seen[0], { rows: [[0, 512], [512, 1024]], fresh: { bytes: m * n * 4, at: 0 } });
    // As learnt from a call whose first worker faulted 1,024 pages in 11.5 ms and ran 5e8 flops
    // in 18.5 ms more, the other 5e8 in 20 ms: fewer rows for the first worker.
    const worker = new CallerShare();
    worker.record(11.5, 1024, [30, 20], [5e8, 5e8]);
    const mine = Math.floor((worker.fraction(2, 2 * m * n * k, 1024) * m) / 4) * 4;
    assert.ok(mine > 0 && mine < 512, `the first worker's rows: ${mine}`);
    const learnt = await wasmMatmul(copied, { ...shares, worker })
      .matmul(args(new Float32Array(m * n)));
    assert.deepEqual(learnt, expected);
    assert.deepEqual(seen[2], { rows: [[0, mine], [mine, 1024]], fresh: { bytes: m * n * 4, at: 0 } });
    // Where this thread's fresh arrays come mapped already (as in WebKit), it touches the
    // result's pages itself, into the array lent, and the lanes stay even.
    const mapped = new FreshFaults();
    mapped.record(0.01, 1024);
    const plain = wasmMatmul(copied, { ...shares, faults: mapped });
    const c = new Float32Array(m * n);
    assert.equal(await plain.matmul(args(c)), undefined);
    assert.deepEqual(c, expected);
    assert.deepEqual(seen[3], { rows: [[0, 512], [512, 1024]], fresh: undefined });
  } finally {
    copied.dispose();
  }
});

for (const variant of ["relaxed", "simd"]) {
  Deno.test(`matmul_rows_f32 (${variant}) with a claim word runs the rows that its lane claims, a share of what is left at a time`, async () => {
    const runtime = await wasmRuntimeOf(variant, 1);
    try {
      const [m, n, k] = [200, 24, 40];
      const a = random([m, k], 11).data, b = random([k, n], 12).data;
      await runtime.scope((s) => {
        const ap = s.put(a), bp = s.put(b), packed = s.alloc(n * k * 4), c = s.alloc(m * n * 4);
        const scratch = s.alloc(runtime.call("matmul_rows_scratch_f32") as number);
        const claim = s.alloc(4), claims = new Int32Array(runtime.memory.buffer, claim, 1);
        runtime.call("matmul_pack_b_f32", bp, packed, k, n, n, 1);
        // deno-fmt-ignore
        const lane = (word: number, lanes = 2) =>
          runtime.call("matmul_rows_f32", ap, packed, c, n, k, 0, m, k, 1, 1, 0, scratch, word, lanes);
        const result = () => s.f32(c, m * n).slice();
        lane(0);
        const whole = result();
        // Other lanes have claimed the first 48 rows: this one claims the rest (two lanes'
        // shares of what is left, at least 12 rows each) and leaves rows 0 … 47 alone (NaN here).
        s.f32(c, m * n).fill(NaN);
        claims[0] = 48;
        lane(claim);
        const rest = result();
        assert.equal(claims[0], m, "every row claimed, none past the end");
        assert.ok(rest.subarray(0, 48 * n).every(Number.isNaN), "rows claimed elsewhere untouched");
        assert.deepEqual(rest.subarray(48 * n), whole.subarray(48 * n));
        // A lane that comes once every row is claimed runs none.
        s.f32(c, m * n).fill(NaN);
        lane(claim);
        assert.ok(result().every(Number.isNaN));
      });
    } finally {
      runtime.dispose();
    }
  });
}

Deno.test("matmul() wasm on 2 workers matches the reference", async () => {
  await init({ threads: 2 });
  try {
    await conformance("wasm", [[130, 257, 70], [256, 128, 200], [700, 300, 400]]);
  } finally {
    await dispose();
  }
});

Deno.test(skippable("matmul() webgpu matches the reference", WEBGPU_SKIP, async () => {
  await init({ threads: 1 });
  try {
    await conformance("webgpu", [[0, 3, 4], [1, 1, 1], [7, 5, 9], [67, 40, 29], [130, 33, 70]]);
    // Shapes above take the wide shader's scalar access; these its vec4 access: one 128-tile,
    // then two tiles each way with partial ones and a partial slab.
    await conformance("webgpu", [[4, 4, 4], [132, 260, 136]]);
  } finally {
    await dispose();
  }
}));

Deno.test(skippable("matmul() webgpu: the wide shader's vec4 and scalar access and the general shader", WEBGPU_SKIP, async () => {
  const device = (await gpuDevice())!;
  const call = (m: number, n: number, k: number, shader: MatmulShader = "auto") => {
    const args = {
      a: new Float32Array(m * k), b: new Float32Array(k * n), c: new Float32Array(m * n),
      m, n, k, transposeA: false, transposeB: false, alpha: 1, beta: 0,
    };
    const dispatch = matmulDispatch(device, args, shader);
    for (const buffer of dispatch.buffers) buffer.destroy();
    return dispatch.shader;
  };
  assert.equal(call(132, 136, 260), "wide");
  assert.equal(call(132, 136, 261), "wide-scalar");
  assert.equal(call(130, 136, 260), "wide-scalar");
  assert.equal(call(132, 136, 260, "scalar"), "wide-scalar");
  assert.equal(call(132, 136, 260, "general"), "general");
  // Each forced shader against the definition, every transpose, with β: the scalar access on
  // shapes the vec4 one would take too, the general shader over two 64-tiles and tails.
  for (const shader of ["scalar", "general"] as const) {
    const kernels = webgpuMatmul(device, { shader });
    const [m, k, n] = shader === "scalar" ? [132, 36, 136] : [130, 33, 70];
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        const a = random(transposeA ? [k, m] : [m, k], 7);
        const b = random(transposeB ? [n, k] : [k, n], 8);
        const c = random([m, n], 9);
        const out = new Float32Array(c.data);
        const opts = { transposeA, transposeB, alpha: 0.5, beta: -2 };
        await kernels.matmul({ a: a.data, b: b.data, c: out, m, n, k, ...opts });
        const label = `${shader} tA=${transposeA} tB=${transposeB}`;
        assertClose(out, expected(a, b, m, n, k, { ...opts, c }), k, label);
      }
    }
  }
}));

Deno.test("matmul() js backend computes a known product", async () => {
  const a = { data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [2, 3] };
  const b = { data: new Float32Array([7, 8, 9, 10, 11, 12]), shape: [3, 2] };
  const c = await matmul(a, b, { backend: "js" });
  assert.deepEqual([...c.data], [58, 64, 139, 154]);
  assert.deepEqual(c.shape, [2, 2]);
});

Deno.test("matmul() with beta = 0 ignores NaN in c, as BLAS does", async () => {
  const a = { data: new Float32Array([1, 2]), shape: [1, 2] };
  const b = { data: new Float32Array([3, 4]), shape: [2, 1] };
  const c = { data: new Float32Array([NaN]), shape: [1, 1] };
  for (const backend of ["js", "wasm"] as const) {
    const out = await matmul(a, b, { c, beta: 0, backend });
    assert.deepEqual([...out.data], [11], backend);
  }
  await dispose();
});
