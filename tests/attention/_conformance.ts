/**
 * The conformance suite of the `attention` kernel family: every backend runs the same cases
 * against the straightforward definitions in _naive.ts. Call `attentionConformance(backend)`
 * from a backend's test file.
 *
 * @module
 */
import { skippable } from "../_skip.ts";
import assert from "node:assert/strict";
import {
  type AttentionDims,
  type AttentionKernels,
  FEATURE_MAP_CODES,
  type FlashForwardArgs,
  flashItemCount,
  type LinearForwardArgs,
  type MixedChunkArgs,
  type QueryKeyValueBuffers,
} from "../../src/backends/attention.ts";
import type { Tensor } from "../../src/tensor.ts";
import {
  assertClose,
  assertSameBits,
  linearPair,
  type MixedOptions,
  naiveLinear,
  naiveMixedChunk,
  naiveSoftmax,
  randomTensor,
} from "./_naive.ts";

/** Tolerances of one backend: float64 references agree to ~1e-6, float32 kernels less. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Strides of a rank-4 broadcast tensor over its first three axes (0 where the axis is 1). */
function strides3(t: Tensor | undefined): [number, number, number] {
  if (t === undefined) return [0, 0, 0];
  const [a, b, c, d] = t.shape;
  return [a === 1 ? 0 : b * c * d, b === 1 ? 0 : c * d, c === 1 ? 0 : d];
}

/** The buffers and dimensions of a q/k/v triple, with a fresh output of NaN. */
function queryKeyValueArgs(q: Tensor, k: Tensor, v: Tensor): QueryKeyValueBuffers & AttentionDims {
  const [batch, heads, queryLength, headDim] = q.shape, [, kvHeads, keyLength] = k.shape;
  const valueDim = v.shape[3];
  return {
    q: q.data,
    k: k.data,
    v: v.data,
    out: new Float32Array(batch * heads * queryLength * valueDim).fill(NaN),
    batch,
    heads,
    kvHeads,
    queryLength,
    keyLength,
    headDim,
    valueDim,
  };
}

/** Kernel arguments of a softmax call, with fresh output buffers. */
export function flashArgs(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: { causal?: boolean; scale?: number; mask?: Tensor; queryBlock?: number; lse?: boolean } =
    {},
): FlashForwardArgs {
  const base = queryKeyValueArgs(q, k, v);
  const [maskBatchStride, maskHeadStride, maskRowStride] = strides3(opts.mask);
  return {
    ...base,
    lse: opts.lse === false
      ? null
      : new Float32Array(base.batch * base.heads * base.queryLength).fill(NaN),
    mask: opts.mask?.data ?? null,
    scale: opts.scale ?? 1 / Math.sqrt(base.headDim),
    isCausal: opts.causal ?? false,
    maskBatchStride,
    maskHeadStride,
    maskRowStride,
    queryBlock: opts.queryBlock ?? 64,
  };
}

/** Kernel arguments of a linear-attention call. */
export function linearArgs(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: { causal?: boolean; featureMap?: "elu+1" | "relu"; chunkSize?: number } = {},
): LinearForwardArgs {
  return {
    ...queryKeyValueArgs(q, k, v),
    isCausal: opts.causal ?? false,
    featureMap: FEATURE_MAP_CODES[opts.featureMap ?? "elu+1"],
    chunkSize: opts.chunkSize ?? 64,
  };
}

/** Kernel arguments of a mixed-chunk call; linQ/linK null means no global part. */
export function mixedArgs(q: Tensor, k: Tensor, v: Tensor, opts: MixedOptions): MixedChunkArgs {
  const [linQ, linK] = linearPair(q, k, opts);
  const [biasBatchStride, biasHeadStride, biasRowStride] = strides3(opts.bias);
  return {
    ...queryKeyValueArgs(q, k, v),
    length: q.shape[2],
    linQ: linQ?.data ?? null,
    linK: linK?.data ?? null,
    bias: opts.bias?.data ?? null,
    linearDim: linQ?.shape[3] ?? 0,
    chunkSize: opts.chunkSize,
    isCausal: opts.causal ?? false,
    biasBatchStride,
    biasHeadStride,
    biasRowStride,
  };
}

/** A random q/k/v triple; `spread` scales q and k, so logits grow with spread². */
export function randomQkv(
  [batch, heads, kvHeads, queryLength, keyLength, headDim, valueDim]: number[],
  seed: number,
  spread = 1,
) {
  return {
    q: randomTensor([batch, heads, queryLength, headDim], seed, spread),
    k: randomTensor([batch, kvHeads, keyLength, headDim], seed + 1, spread),
    v: randomTensor([batch, kvHeads, keyLength, valueDim], seed + 2),
  };
}

/** A [B|1, H|1, Nq|1, Nk] mask of zeros and -Infinity, with some rows entirely -Infinity. */
function randomMask(shape: number[], seed: number): Tensor {
  const t = randomTensor(shape, seed);
  const keys = shape[3];
  for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i] < -0.3 ? -Infinity : t.data[i];
  for (let row = 0; row < t.data.length / keys; row += 5) {
    t.data.fill(-Infinity, row * keys, (row + 1) * keys);
  }
  return t;
}

/** One backend under test: its kernels are made per test and released after it. */
export interface BackendUnderTest {
  /** Prefix of the test names, e.g. "wasm (relaxed SIMD)". */
  label: string;
  setup: () => Promise<AttentionKernels>;
  teardown?: () => Promise<void>;
  tolerance: Tolerance;
  /** Why the backend's cases are skipped here (e.g. no WebGPU adapter); null or absent: run. */
  skip?: string | null;
}

type Case = (kernels: AttentionKernels, tolerance: Tolerance) => Promise<void>;

/** Registers the whole suite for one backend. */
export function attentionConformance(backend: BackendUnderTest): void {
  const register = (name: string, body: Case) =>
    Deno.test(skippable(`${backend.label} ${name}`, backend.skip ?? null, async () => {
      const kernels = await backend.setup();
      try {
        await body(kernels, backend.tolerance);
      } finally {
        await backend.teardown?.();
      }
    }));
  softmaxCases(register);
  linearCases(register);
  mixedCases(register);
}

type Register = (name: string, body: Case) => void;

/** Runs one softmax case and compares output and LSE with the naive definition. */
async function checkSoftmax(
  kernels: AttentionKernels,
  tolerance: Tolerance,
  dims: number[],
  opts: {
    causal?: boolean;
    scale?: number;
    mask?: Tensor;
    queryBlock?: number;
    spread?: number;
    seed?: number;
  },
) {
  const { q, k, v } = randomQkv(dims, opts.seed ?? 1, opts.spread);
  const args = flashArgs(q, k, v, opts);
  await kernels.flashForward(args);
  const expected = naiveSoftmax(q, k, v, opts);
  const label = `dims ${dims} causal ${opts.causal ?? false}`;
  assertClose(args.out, expected.out, { ...tolerance, label: `${label} out` });
  assertClose(args.lse!, expected.lse, { ...tolerance, label: `${label} lse` });
  return args;
}

function softmaxCases(test: Register) {
  const name = "flashForward()";
  for (const headDim of [16, 32, 64, 80, 128]) {
    test(
      `${name} matches naive softmax for D = ${headDim}, N = 67 (blocks + tail)`,
      async (kernels, tolerance) => {
        for (const causal of [false, true]) {
          await checkSoftmax(kernels, tolerance, [1, 2, 2, 67, 67, headDim, headDim], {
            causal,
            queryBlock: 16,
          });
        }
      },
    );
  }
  test(`${name} handles N = 1 and N = 0`, async (kernels, tolerance) => {
    for (const causal of [false, true]) {
      await checkSoftmax(kernels, tolerance, [2, 1, 1, 1, 1, 16, 16], { causal });
      const empty = await checkSoftmax(kernels, tolerance, [1, 2, 1, 3, 0, 8, 4], { causal });
      assert.deepEqual([...empty.out], new Array(24).fill(0));
      assert.deepEqual([...empty.lse!], new Array(6).fill(-Infinity));
      await checkSoftmax(kernels, tolerance, [1, 2, 1, 0, 5, 8, 4], { causal });
    }
  });
  test(`${name} supports grouped-query heads and Dv != D`, async (kernels, tolerance) => {
    for (const causal of [false, true]) {
      await checkSoftmax(kernels, tolerance, [2, 6, 2, 33, 33, 32, 48], { causal, queryBlock: 8 });
      await checkSoftmax(kernels, tolerance, [1, 6, 3, 20, 20, 24, 5], { causal, queryBlock: 64 });
    }
  });
  test(`${name} aligns causal masks bottom-right when Nq != Nk`, async (kernels, tolerance) => {
    const decode = await checkSoftmax(kernels, tolerance, [1, 2, 2, 5, 130, 32, 32], {
      causal: true,
    });
    assert.ok(decode.out.every(Number.isFinite));
    // Nq > Nk: the first 60 queries see no key at all.
    const prefill = await checkSoftmax(kernels, tolerance, [1, 1, 1, 130, 70, 16, 16], {
      causal: true,
      queryBlock: 32,
    });
    assert.ok(prefill.out.subarray(0, 60 * 16).every((x) => x === 0));
    assert.ok(prefill.lse!.subarray(0, 60).every((x) => x === -Infinity));
    assert.ok(Number.isFinite(prefill.lse![60]));
  });
  // 4,500 keys of 64 floats are 1.1 MiB a head: more than the WASM kernel packs once for all
  // of a head's query blocks (256 KiB), so it packs them a block at a time.
  test(`${name} matches naive softmax over 4,500 keys`, async (kernels, tolerance) => {
    for (const causal of [false, true]) {
      await checkSoftmax(kernels, tolerance, [1, 2, 1, 40, 4500, 64, 16], {
        causal,
        queryBlock: 32,
      });
    }
  });
  test(`${name} applies broadcast masks with -Infinity entries`, async (kernels, tolerance) => {
    for (const maskShape of [[2, 1, 40, 50], [1, 4, 1, 50], [2, 4, 40, 50]]) {
      const mask = randomMask(maskShape, 9);
      for (const causal of [false, true]) {
        const args = await checkSoftmax(kernels, tolerance, [2, 4, 2, 40, 50, 16, 16], {
          mask,
          causal,
          queryBlock: 16,
        });
        assert.ok(args.out.every(Number.isFinite), `mask ${maskShape}: no NaN`);
      }
    }
  });
  test(`${name} stays finite with logits of magnitude ~100`, async (kernels, tolerance) => {
    // q, k uniform in [-4, 4) with D = 64 and scale 1 give logits up to a few hundred.
    const args = await checkSoftmax(kernels, tolerance, [1, 2, 2, 70, 70, 64, 64], {
      spread: 4,
      scale: 1,
    });
    assert.ok(args.out.every(Number.isFinite) && args.lse!.every(Number.isFinite));
    assert.ok(Math.max(...args.lse!) > 100, `largest LSE ${Math.max(...args.lse!)}`);
    const causal = await checkSoftmax(kernels, tolerance, [1, 1, 1, 70, 70, 64, 64], {
      spread: 4,
      scale: 1,
      causal: true,
    });
    assert.ok(causal.out.every(Number.isFinite));
  });
  test(
    `${name} gives the same bits for any split of work items and any query block`,
    async (kernels, tolerance) => {
      const { q, k, v } = randomQkv([2, 3, 1, 50, 60, 16, 8], 5);
      const whole = flashArgs(q, k, v, { causal: true, queryBlock: 16 });
      await kernels.flashForward(whole);
      const parts = flashArgs(q, k, v, { causal: true, queryBlock: 16 });
      const total = flashItemCount(parts);
      assert.equal(total, 2 * 3 * 4);
      for (const [first, count] of [[0, 5], [5, 0], [5, 11], [16, total - 16]]) {
        await kernels.flashForward(parts, first, count);
      }
      assertSameBits(parts.out, whole.out, "out");
      assertSameBits(parts.lse!, whole.lse!, "lse");
      for (const queryBlock of [1, 7, 64, 200]) {
        const other = flashArgs(q, k, v, { causal: true, queryBlock });
        await kernels.flashForward(other);
        assertClose(other.out, whole.out, { ...tolerance, label: `queryBlock ${queryBlock}` });
      }
    },
  );
  test(
    `${name} writes only its own rows and skips the LSE when not asked`,
    async (kernels) => {
      const { q, k, v } = randomQkv([1, 2, 2, 10, 10, 8, 8], 3);
      const args = flashArgs(q, k, v, { queryBlock: 4, lse: false });
      await kernels.flashForward(args, 3, 1); // head 1, rows 0..3
      assert.ok(args.out.subarray(0, 10 * 8).every(Number.isNaN));
      assert.ok(args.out.subarray(10 * 8, 14 * 8).every(Number.isFinite));
      assert.ok(args.out.subarray(14 * 8).every(Number.isNaN));
      await assert.rejects(() => kernels.flashForward(args, 5, 2), RangeError);
    },
  );
}

function linearCases(test: Register) {
  const name = "linearForward()";
  const checker = (kernels: AttentionKernels, tolerance: Tolerance) =>
  async (
    dims: number[],
    opts: { causal?: boolean; featureMap?: "elu+1" | "relu"; chunkSize?: number },
  ) => {
    const { q, k, v } = randomQkv(dims, 21);
    const args = linearArgs(q, k, v, opts);
    await kernels.linearForward(args);
    assertClose(args.out, naiveLinear(q, k, v, opts), {
      ...tolerance,
      label: `dims ${dims} ${JSON.stringify(opts)}`,
    });
    return args;
  };
  for (const featureMap of ["elu+1", "relu"] as const) {
    test(
      `${name} matches the O(N²) definition with ${featureMap}, both causal settings`,
      async (kernels, tolerance) => {
        const check = checker(kernels, tolerance);
        for (const causal of [false, true]) {
          await check([2, 4, 2, 70, 70, 16, 24], { causal, featureMap, chunkSize: 16 });
          await check([1, 1, 1, 1, 1, 8, 8], { causal, featureMap });
          // D and Dv over one 64-column block, odd; chunks over one 64-row block.
          await check([1, 2, 1, 150, 150, 81, 70], { causal, featureMap, chunkSize: 130 });
        }
        await check([1, 2, 1, 9, 40, 16, 8], { featureMap }); // Nq != Nk
      },
    );
  }
  test(`${name} does not depend on the chunk size beyond rounding`, async (kernels, tolerance) => {
    const { q, k, v } = randomQkv([1, 2, 2, 50, 50, 8, 8], 4);
    const reference = naiveLinear(q, k, v, { causal: true });
    for (const chunkSize of [1, 7, 50, 64, 500]) {
      const args = linearArgs(q, k, v, { causal: true, chunkSize });
      await kernels.linearForward(args);
      assertClose(args.out, reference, { ...tolerance, label: `chunk ${chunkSize}` });
    }
  });
  test(`${name} writes zeros where a relu denominator is zero`, async (kernels, tolerance) => {
    const q = { data: new Float32Array([-1, -1, 1, 0]), shape: [1, 1, 2, 2] };
    const k = { data: new Float32Array([1, 2, 3, -1]), shape: [1, 1, 2, 2] };
    const v = { data: new Float32Array([5, 7]), shape: [1, 1, 2, 1] };
    for (const causal of [false, true]) {
      const args = linearArgs(q, k, v, { causal, featureMap: "relu" });
      await kernels.linearForward(args);
      // Row 1: φ(q) = (1, 0) weighs key 0 by 1 and key 1 by 3.
      assertClose(args.out, [0, (1 * 5 + 3 * 7) / 4], tolerance);
    }
  });
}

function mixedCases(test: Register) {
  const name = "mixedChunkForward()";
  const checker =
    (kernels: AttentionKernels, tolerance: Tolerance) =>
    async (dims: number[], opts: MixedOptions, seed = 31) => {
      const { q, k, v } = randomQkv(dims, seed);
      const args = mixedArgs(q, k, v, opts);
      await kernels.mixedChunkForward(args);
      const label = `dims ${dims} chunk ${opts.chunkSize} causal ${opts.causal ?? false}`;
      // relu² sums have no normalisation: scale the absolute tolerance by the output size.
      const expected = naiveMixedChunk(q, k, v, opts);
      const size = Math.max(1, ...expected.map(Math.abs));
      assertClose(args.out, expected, { atol: tolerance.atol * size, rtol: tolerance.rtol, label });
      return args;
    };
  test(
    `${name} matches the definition for both causal settings, N not a multiple of C`,
    async (kernels, tolerance) => {
      const check = checker(kernels, tolerance);
      for (const causal of [false, true]) {
        await check([2, 2, 2, 70, 70, 16, 16], { chunkSize: 16, causal });
        await check([1, 1, 1, 1, 1, 8, 8], { chunkSize: 4, causal });
        await check([1, 1, 1, 5, 5, 8, 8], { chunkSize: 32, causal }); // one padded chunk
        await check([1, 1, 1, 6, 6, 8, 8], { chunkSize: 1, causal });
      }
    },
  );
  test(`${name} uses separate linQ/linK, grouped heads and Dv != D`, async (kernels, tolerance) => {
    const check = checker(kernels, tolerance);
    const linQ = randomTensor([2, 4, 45, 12], 41), linK = randomTensor([2, 2, 45, 12], 42);
    for (const causal of [false, true]) {
      await check([2, 4, 2, 45, 45, 16, 24], { chunkSize: 8, causal, linQ, linK });
    }
  });
  test(`${name} without a global part is chunked relu² with a bias`, async (kernels, tolerance) => {
    const check = checker(kernels, tolerance);
    const bias = randomTensor([1, 3, 10, 10], 43, 0.5);
    bias.data[7] = -Infinity;
    for (const causal of [false, true]) {
      await check([2, 3, 3, 26, 26, 16, 8], {
        chunkSize: 10,
        causal,
        linQ: null,
        linK: null,
        bias,
      });
      await check([1, 1, 1, 26, 26, 16, 8], { chunkSize: 26, causal, linQ: null, linK: null });
    }
    const withGlobal = await check([2, 3, 3, 26, 26, 16, 8], { chunkSize: 10, causal: true, bias });
    assert.ok(withGlobal.out.every(Number.isFinite));
  });
  test(`${name} splits over (batch, head) items`, async (kernels) => {
    const { q, k, v } = randomQkv([2, 2, 1, 20, 20, 8, 8], 51);
    const whole = mixedArgs(q, k, v, { chunkSize: 6, causal: true });
    await kernels.mixedChunkForward(whole);
    const parts = mixedArgs(q, k, v, { chunkSize: 6, causal: true });
    await kernels.mixedChunkForward(parts, 0, 3);
    await kernels.mixedChunkForward(parts, 3, 1);
    assertSameBits(parts.out, whole.out);
  });
}
