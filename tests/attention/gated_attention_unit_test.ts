import assert from "node:assert/strict";
import { gatedAttentionUnit, type GAUParams } from "../../src/attention/gated_attention_unit.ts";
import type { Tensor } from "../../src/tensor.ts";
import { assertClose, assertRejectsNaming, at, naiveMixedChunk, randomTensor } from "./_naive.ts";
import { testBackends } from "./_backends.ts";

const [B, N, d, e, s] = [2, 13, 6, 12, 5];

function makeParams(seed: number, scaleRows = 2): GAUParams {
  return {
    uWeight: randomTensor([d, e], seed, 0.6),
    uBias: randomTensor([e], seed + 1, 0.1),
    vWeight: randomTensor([d, e], seed + 2, 0.6),
    vBias: randomTensor([e], seed + 3, 0.1),
    zWeight: randomTensor([d, s], seed + 4, 0.6),
    zBias: randomTensor([s], seed + 5, 0.1),
    qkScale: randomTensor([scaleRows, s], seed + 6, 2),
    qkOffset: randomTensor([scaleRows, s], seed + 7, 0.5),
    outWeight: randomTensor([e, d], seed + 8, 0.5),
    outBias: randomTensor([d], seed + 9, 0.1),
    normScale: randomTensor([d], seed + 10, 1),
    normOffset: randomTensor([d], seed + 11, 0.2),
  };
}

/** rows × cols matrix of a function, as a Tensor. */
function fromFunction(rows: number, cols: number, f: (r: number, c: number) => number): Tensor {
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = f(r, c);
  return { data, shape: [rows, cols] };
}

const silu = (x: number) => x / (1 + Math.exp(-x));

/** dense(a [rows, inner]) = a W + b, from the definition. */
function dense(a: Tensor, w: Tensor, b?: Tensor): Tensor {
  return fromFunction(a.shape[0], w.shape[1], (r, c) => {
    let sum = b ? at(b, [c]) : 0;
    for (let p = 0; p < a.shape[1]; p++) sum += at(a, [r, p]) * at(w, [p, c]);
    return sum;
  });
}

const map = (t: Tensor, f: (x: number, r: number, c: number) => number) =>
  fromFunction(t.shape[0], t.shape[1], (r, c) => f(at(t, [r, c]), r, c));

/** The GAU composed from its pieces: norm, dense + SiLU, offset-scales, attention, gate, dense. */
function composedGau(
  x: Tensor,
  p: GAUParams,
  opts: { chunkSize?: number; causal?: boolean; norm?: string },
) {
  const rows = fromFunction(B * N, d, (r, c) => x.data[r * d + c]);
  const normed = map(rows, (value, r) => {
    if (opts.norm === "none") return value;
    const row = Array.from({ length: d }, (_, c) => at(rows, [r, c]));
    const mean = opts.norm === "rms" ? 0 : row.reduce((a, b) => a + b) / d;
    const variance = row.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
    return (value - mean) / Math.sqrt(variance + 1e-5);
  });
  const affine = opts.norm === "none"
    ? normed
    : map(normed, (value, _, c) => value * at(p.normScale!, [c]) + at(p.normOffset!, [c]));
  const u = map(dense(affine, p.uWeight, p.uBias), silu);
  const v = map(dense(affine, p.vWeight, p.vBias), silu);
  const z = map(dense(affine, p.zWeight, p.zBias), silu);
  const derived = Array.from(
    { length: p.qkScale.shape[0] },
    (_, row) =>
      map(z, (value, _r, c) => value * at(p.qkScale, [row, c]) + at(p.qkOffset, [row, c])),
  );
  const as4 = (t: Tensor): Tensor => ({ data: t.data, shape: [B, 1, N, t.shape[1]] });
  const chunked = opts.chunkSize !== undefined;
  const attended = naiveMixedChunk(as4(derived[0]), as4(derived[1]), as4(v), {
    chunkSize: opts.chunkSize ?? N,
    causal: opts.causal,
    linQ: chunked ? as4(derived[derived.length === 4 ? 2 : 0]) : null,
    linK: chunked ? as4(derived[derived.length === 4 ? 3 : 1]) : null,
    // The GAU's bias is [B|1, L, L]; the naive definition reads [B|1, H|1, L, L].
    bias: p.attentionBias &&
      {
        data: p.attentionBias.data,
        shape: [p.attentionBias.shape.at(-3) ?? 1, 1, ...p.attentionBias.shape.slice(-2)],
      },
  });
  const gated = map(u, (value, r, c) => value * attended[r * e + c]);
  return map(dense(gated, p.outWeight, p.outBias), (value, r, c) => value + x.data[r * d + c]).data;
}

testBackends(
  "gatedAttentionUnit() equals the composition of its reference pieces",
  async (backend) => {
    const x = randomTensor([B, N, d], 81, 2);
    for (const causal of [false, true]) {
      const params = makeParams(82);
      const y = await gatedAttentionUnit(x, params, { causal, backend });
      assert.deepEqual(y.shape, [B, N, d]);
      assertClose(y.data, composedGau(x, params, { causal }), {
        atol: 1e-5,
        rtol: 1e-4,
        label: `causal ${causal}`,
      });
    }
  },
);

testBackends(
  "gatedAttentionUnit() with chunkSize uses mixed-chunk attention with four offset-scales",
  async (backend) => {
    const x = randomTensor([B, N, d], 83, 2);
    for (const causal of [false, true]) {
      for (const rows of [2, 4]) {
        const params = makeParams(84, rows);
        const y = await gatedAttentionUnit(x, params, { causal, chunkSize: 4, backend });
        assertClose(y.data, composedGau(x, params, { causal, chunkSize: 4 }), {
          atol: 1e-5,
          rtol: 1e-4,
        });
      }
    }
  },
);

testBackends(
  "gatedAttentionUnit() supports rms and no normalisation and an attention bias",
  async (backend) => {
    const x = randomTensor([B, N, d], 85, 2);
    const params = { ...makeParams(86), attentionBias: randomTensor([N, N], 87, 0.2) };
    const rms = await gatedAttentionUnit(x, params, { norm: "rms", causal: true, backend });
    assertClose(rms.data, composedGau(x, params, { norm: "rms", causal: true }), {
      atol: 1e-5,
      rtol: 1e-4,
    });
    const { normScale: _, normOffset: __, ...bare } = params;
    const none = await gatedAttentionUnit(x, bare, { norm: "none", backend });
    assertClose(none.data, composedGau(x, bare, { norm: "none" }), { atol: 1e-5, rtol: 1e-4 });
    const chunkBias = { ...makeParams(86), attentionBias: randomTensor([2, 4, 4], 88, 0.2) };
    const chunked = await gatedAttentionUnit(x, chunkBias, { chunkSize: 4, backend });
    assertClose(chunked.data, composedGau(x, chunkBias, { chunkSize: 4 }), {
      atol: 1e-5,
      rtol: 1e-4,
    });
  },
);

Deno.test("gatedAttentionUnit() rejects bad inputs naming the argument", async () => {
  const x = randomTensor([B, N, d], 89);
  const params = makeParams(90);
  const gau = (p: unknown, opts?: unknown, input: unknown = x) =>
    gatedAttentionUnit(input as Tensor, p as GAUParams, opts as never);
  await assertRejectsNaming(() => gau(params, undefined, randomTensor([N, d], 1)), RangeError, "x");
  await assertRejectsNaming(() => gau(undefined), TypeError, "params");
  await assertRejectsNaming(
    () => gau({ ...params, uWeight: undefined }),
    TypeError,
    "params.uWeight",
  );
  await assertRejectsNaming(
    () => gau({ ...params, vWeight: randomTensor([d, e + 1], 1) }),
    RangeError,
    "params.vWeight",
  );
  await assertRejectsNaming(
    () => gau({ ...params, zBias: randomTensor([s + 1], 1) }),
    RangeError,
    "params.zBias",
  );
  await assertRejectsNaming(
    () => gau({ ...params, outWeight: randomTensor([d, e], 1) }),
    RangeError,
    "params.outWeight",
  );
  await assertRejectsNaming(() => gau(makeParams(1, 4)), RangeError, "params.qkScale");
  await assertRejectsNaming(
    () => gau({ ...params, qkOffset: randomTensor([2, s + 1], 1) }),
    RangeError,
    "params.qkOffset",
  );
  await assertRejectsNaming(() => gau({ ...params, wQ: params.uWeight }), RangeError, "wQ");
  await assertRejectsNaming(
    () => gau({ ...params, attentionBias: randomTensor([4, 4], 1) }),
    RangeError,
    "params.attentionBias",
  );
  await assertRejectsNaming(() => gau(params, { chunkSize: 0 }), RangeError, "opts.chunkSize");
  await assertRejectsNaming(() => gau(params, { norm: "batch" }), RangeError, "opts.norm");
  await assertRejectsNaming(() => gau(params, { norm: "none" }), RangeError, "params.normScale");
  await assertRejectsNaming(() => gau(params, { heads: 2 }), RangeError, "heads");
});

testBackends("gatedAttentionUnit() writes into lent out a fresh output's bits", async (backend) => {
  const x = randomTensor([B, N, d], 91);
  const params = makeParams(92);
  for (const chunkSize of [undefined, 4]) {
    const fresh = await gatedAttentionUnit(x, params, { chunkSize, causal: true, backend });
    const out = new Float32Array(B * N * d).fill(NaN);
    const lent = await gatedAttentionUnit(x, params, { chunkSize, causal: true, backend, out });
    assert.equal(lent.data, out);
    assert.deepEqual(new Uint32Array(out.buffer), new Uint32Array(fresh.data.buffer));
  }
  const room = new Float32Array(B * N * d + 10).fill(3);
  const xIn = { data: room.subarray(10), shape: x.shape };
  xIn.data.set(x.data);
  const into = (x: Tensor, p: GAUParams, out: Float32Array) => gatedAttentionUnit(x, p, { out });
  await assert.rejects(() => into(xIn, params, room.subarray(0, B * N * d)), {
    name: "RangeError",
    message: /"opts.out" to share no memory with "x"/,
  });
  assert.deepEqual([...room.subarray(0, 10)], Array(10).fill(3));
  const weights = new Float32Array(300);
  weights.set(params.outWeight.data);
  const sharing = { ...params, outWeight: { data: weights.subarray(0, e * d), shape: [e, d] } };
  await assert.rejects(() => into(x, sharing, weights.subarray(50, 50 + B * N * d)), {
    name: "RangeError",
    message: /"opts.out" to share no memory with "params.outWeight"/,
  });
  await assert.rejects(() => into(x, params, new Float32Array(B * N * d - 1)), {
    name: "RangeError",
    message: /"opts.out" to hold 156 values/,
  });
});
