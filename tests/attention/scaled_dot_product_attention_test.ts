import assert from "node:assert/strict";
import { scaledDotProductAttention } from "../../src/attention/scaled_dot_product_attention.ts";
import type { Tensor } from "../../src/tensor.ts";
import { dispose, init } from "../../src/runtime/mod.ts";
import {
  assertClose,
  assertRejectsNaming,
  assertSameBits,
  naiveSoftmax,
  randomTensor,
} from "./_naive.ts";
import { randomQkv } from "./_conformance.ts";
import { testBackends } from "./_backends.ts";
import { skippable } from "../_skip.ts";
import { HAS_ADAPTER, WEBGPU_SKIP } from "../_webgpu.ts";

const t = (data: number[], shape: number[]): Tensor => ({ data: new Float32Array(data), shape });

testBackends(
  "scaledDotProductAttention() matches naive softmax with GQA, Dv != D and a rank-2 mask",
  async (backend, tolerance) => {
    const { q, k, v } = randomQkv([2, 4, 2, 19, 23, 16, 12], 7);
    const mask = randomTensor([19, 23], 8);
    for (const causal of [false, true]) {
      const out = await scaledDotProductAttention(q, k, v, { causal, mask, backend });
      assert.deepEqual(out.shape, [2, 4, 19, 12]);
      assertClose(out.data, naiveSoftmax(q, k, v, { causal, mask }).out, tolerance);
    }
  },
);

testBackends(
  "scaledDotProductAttention() with grouped heads equals repeating each key/value head",
  async (backend) => {
    const { q, k, v } = randomQkv([1, 6, 2, 9, 9, 8, 8], 3);
    const repeat = (x: Tensor): Tensor => {
      const [B, Hkv, N, X] = x.shape, group = 6 / Hkv;
      const data = new Float32Array(B * 6 * N * X);
      for (let h = 0; h < 6; h++) {
        const g = Math.floor(h / group);
        data.set(x.data.subarray(g * N * X, (g + 1) * N * X), h * N * X);
      }
      return { data, shape: [B, 6, N, X] };
    };
    const grouped = await scaledDotProductAttention(q, k, v, { causal: true, backend });
    const repeated = await scaledDotProductAttention(q, repeat(k), repeat(v), {
      causal: true,
      backend,
    });
    assertSameBits(grouped.data, repeated.data);
  },
);

testBackends(
  "scaledDotProductAttention() defaults the scale to 1/sqrt(headDim)",
  async (backend) => {
    const { q, k, v } = randomQkv([1, 1, 1, 5, 6, 16, 4], 2, 3);
    const byDefault = await scaledDotProductAttention(q, k, v, { backend });
    const explicit = await scaledDotProductAttention(q, k, v, { scale: 0.25, backend });
    const other = await scaledDotProductAttention(q, k, v, { scale: 0.5, backend });
    assert.deepEqual(byDefault.data, explicit.data);
    assert.notDeepEqual(byDefault.data, other.data);
  },
);

testBackends("scaledDotProductAttention() returns zeros for fully masked rows", async (backend) => {
  const q = t([1, 2, 3], [1, 1, 3, 1]), k = t([1, 1], [1, 1, 2, 1]), v = t([4, 8], [1, 1, 2, 1]);
  const mask = t([0, -Infinity, -Infinity, -Infinity, -Infinity, 0], [3, 2]);
  const out = await scaledDotProductAttention(q, k, v, { mask, backend });
  assert.deepEqual([...out.data], [4, 0, 8]);
  // Causal with Nq > Nk: bottom-right alignment leaves query 0 without keys.
  const causal = await scaledDotProductAttention(q, k, v, { causal: true, scale: 0, backend });
  assert.deepEqual([...causal.data], [0, 4, 6]);
});

testBackends(
  "scaledDotProductAttention() aligns causal masks bottom-right for a decoding step",
  async (backend) => {
    // One new query over three cached keys sees all three.
    const q = t([0], [1, 1, 1, 1]), k = t([1, 2, 3], [1, 1, 3, 1]), v = t([3, 6, 9], [1, 1, 3, 1]);
    const out = await scaledDotProductAttention(q, k, v, { causal: true, backend });
    assert.deepEqual([...out.data], [6]);
  },
);

testBackends(
  "scaledDotProductAttention() keeps logits of magnitude ~1000 accurate and finite",
  async (backend, tolerance) => {
    const q = t([30], [1, 1, 1, 1]),
      k = t([30, 29.9, -30], [1, 1, 3, 1]),
      v = t([1, 0, 5], [1, 1, 3, 1]);
    const out = await scaledDotProductAttention(q, k, v, { scale: 1, backend }); // logits 900, 897, -900
    assertClose(out.data, [1 / (1 + Math.exp(-3))], tolerance);
  },
);

Deno.test("scaledDotProductAttention() leaves its inputs unchanged and runs auto on WASM", async () => {
  const { q, k, v } = randomQkv([1, 2, 1, 4, 4, 8, 8], 4);
  const mask = randomTensor([4, 4], 5);
  const copies = [q, k, v, mask].map((x) => x.data.slice());
  await init({ threads: 1 });
  try {
    const auto = await scaledDotProductAttention(q, k, v, { causal: true, mask });
    const wasm = await scaledDotProductAttention(q, k, v, { causal: true, mask, backend: "wasm" });
    assertSameBits(auto.data, wasm.data);
    [q, k, v, mask].forEach((x, i) => assert.deepEqual(x.data, copies[i]));
  } finally {
    await dispose();
  }
});

Deno.test(skippable("scaledDotProductAttention() on webgpu matches wasm", WEBGPU_SKIP, async () => {
  const { q, k, v } = randomQkv([1, 2, 2, 40, 40, 16, 16], 6);
  await init({ threads: 1 });
  try {
    const wasm = await scaledDotProductAttention(q, k, v, { causal: true, backend: "wasm" });
    const gpu = await scaledDotProductAttention(q, k, v, { causal: true, backend: "webgpu" });
    assertClose(gpu.data, wasm.data, { atol: 2e-6, rtol: 1e-5 });
  } finally {
    await dispose();
  }
}));

Deno.test(
  skippable(
    "scaledDotProductAttention() on webgpu without an adapter rejects, saying so",
    HAS_ADAPTER ? "this host has a WebGPU adapter" : null,
    async () => {
      const { q, k, v } = randomQkv([1, 2, 2, 40, 40, 16, 16], 6);
      await init({ threads: 1 });
      try {
        await assert.rejects(
          () => scaledDotProductAttention(q, k, v, { causal: true, backend: "webgpu" }),
          /needs a WebGPU adapter/,
        );
      } finally {
        await dispose();
      }
    },
  ),
);

Deno.test("scaledDotProductAttention() rejects bad tensors naming the argument", async () => {
  const { q, k, v } = randomQkv([2, 4, 2, 3, 5, 8, 6], 1);
  const sdpa = scaledDotProductAttention;
  await assertRejectsNaming(() => sdpa(null as unknown as Tensor, k, v), TypeError, "q");
  await assertRejectsNaming(
    () => sdpa(q, { data: [1], shape: [1] } as unknown as Tensor, v),
    TypeError,
    "k.data",
  );
  await assertRejectsNaming(() => sdpa(t([1, 2], [1, 2]), k, v), RangeError, "q");
  await assertRejectsNaming(() => sdpa(q, randomTensor([1, 2, 5, 8], 1), v), RangeError, "k");
  await assertRejectsNaming(() => sdpa(q, randomTensor([2, 2, 5, 4], 1), v), RangeError, "k");
  await assertRejectsNaming(() => sdpa(q, randomTensor([2, 3, 5, 8], 1), v), RangeError, "k");
  await assertRejectsNaming(() => sdpa(q, k, randomTensor([2, 2, 4, 6], 1)), RangeError, "v");
  await assertRejectsNaming(() => sdpa(q, k, randomTensor([2, 1, 5, 6], 1)), RangeError, "v");
  await assertRejectsNaming(() => sdpa(randomTensor([2, 4, 3, 0], 1), k, v), RangeError, "q");
});

Deno.test("scaledDotProductAttention() rejects bad options naming the option", async () => {
  const { q, k, v } = randomQkv([2, 4, 2, 3, 5, 8, 6], 1);
  const sdpa = (opts: unknown) => scaledDotProductAttention(q, k, v, opts as never);
  await assertRejectsNaming(() => sdpa({ casual: true }), RangeError, "casual");
  await assertRejectsNaming(() => sdpa(7), TypeError, "opts");
  await assertRejectsNaming(() => sdpa({ causal: 1 }), TypeError, "opts.causal");
  await assertRejectsNaming(() => sdpa({ scale: NaN }), TypeError, "opts.scale");
  await assertRejectsNaming(() => sdpa({ backend: "cuda" }), RangeError, "opts.backend");
  await assertRejectsNaming(() => sdpa({ mask: randomTensor([3, 4], 1) }), RangeError, "opts.mask");
  await assertRejectsNaming(
    () => sdpa({ mask: randomTensor([3, 2, 5], 1) }),
    RangeError,
    "opts.mask",
  );
  await assertRejectsNaming(
    () => sdpa({ mask: randomTensor([2, 4, 3, 5, 1], 1) }),
    RangeError,
    "opts.mask",
  );
  const nanMask = randomTensor([1, 5], 1);
  nanMask.data[3] = NaN;
  await assertRejectsNaming(() => sdpa({ mask: nanMask }), RangeError, "opts.mask");
  nanMask.data[3] = Infinity;
  await assertRejectsNaming(() => sdpa({ mask: nanMask }), RangeError, "opts.mask");
  await assertRejectsNaming(() => sdpa({ backend: "metal" }), RangeError, "opts.backend");
});

testBackends(
  "scaledDotProductAttention() writes into a lent out the bits of a fresh output",
  async (backend) => {
    // Nq > Nk with causal alignment leaves the first queries without keys; the mask hides a
    // whole row: both must still come out as zeros in a NaN-filled out.
    const { q, k, v } = randomQkv([2, 4, 2, 19, 13, 16, 12], 21);
    const mask = randomTensor([19, 13], 22);
    mask.data.fill(-Infinity, 13 * 15, 13 * 16);
    for (const causal of [false, true]) {
      const fresh = await scaledDotProductAttention(q, k, v, { causal, mask, backend });
      const out = new Float32Array(2 * 4 * 19 * 12).fill(NaN);
      const lent = await scaledDotProductAttention(q, k, v, { causal, mask, backend, out });
      assert.equal(lent.data, out);
      assert.deepEqual(lent.shape, [2, 4, 19, 12]);
      assertSameBits(out, fresh.data);
    }
  },
);

Deno.test("scaledDotProductAttention() into lent out: same bits on 1 and 2 threads", async () => {
  const { q, k, v } = randomQkv([1, 8, 4, 300, 300, 32, 32], 23);
  const outs: Float32Array[] = [];
  for (const threads of [1, 2]) {
    await init({ threads });
    try {
      const out = new Float32Array(8 * 300 * 32).fill(NaN);
      outs.push((await scaledDotProductAttention(q, k, v, { out, backend: "wasm" })).data);
    } finally {
      await dispose();
    }
  }
  assertSameBits(outs[1], outs[0]);
});

Deno.test("scaledDotProductAttention() rejects a bad opts.out, naming it, untouched", async () => {
  const { q, k, v } = randomQkv([1, 2, 1, 3, 5, 8, 6], 1);
  const sdpa = (out: unknown) => scaledDotProductAttention(q, k, v, { out: out as Float32Array });
  await assertRejectsNaming(() => sdpa([0]), TypeError, "opts.out");
  await assertRejectsNaming(() => sdpa(new Float32Array(35)), RangeError, "opts.out");
  const sdpaInto = (q: Tensor, out: Float32Array) => scaledDotProductAttention(q, k, v, { out });
  const room = new Float32Array(q.data.length + 36).fill(5);
  room.set(q.data);
  const sharesQ = { data: room.subarray(0, q.data.length), shape: q.shape };
  await assert.rejects(
    () => sdpaInto(sharesQ, room.subarray(q.data.length - 1, q.data.length + 35)),
    { name: "RangeError", message: /"opts.out" to share no memory with "q"/ },
  );
  assert.deepEqual([...room.subarray(q.data.length)], Array(36).fill(5));
  const maskRoom = new Float32Array(60);
  const mask = { data: maskRoom.subarray(40, 55), shape: [3, 5] };
  await assert.rejects(
    () => scaledDotProductAttention(q, k, v, { mask, out: maskRoom.subarray(10, 46) }),
    { name: "RangeError", message: /"opts.out" to share no memory with "opts.mask"/ },
  );
});
