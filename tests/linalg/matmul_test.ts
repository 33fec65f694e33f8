import assert from "node:assert/strict";
import { dispose, init, matmul } from "../../src/mod.ts";
import { HAS_ADAPTER } from "../_webgpu.ts";

const t = (data: number[], shape: number[]) => ({ data: new Float32Array(data), shape });
const a = t([1, 2, 3, 4, 5, 6], [2, 3]);
const b = t([1, 2, 3, 4, 5, 6], [3, 2]);

Deno.test("matmul() rejects mismatched inner dimensions naming b", async () => {
  await assert.rejects(() => matmul(a, a), { name: "RangeError", message: /"b" to have 3 rows/ });
});

Deno.test("matmul() rejects non-Float32Array data naming the argument", async () => {
  await assert.rejects(
    () => matmul({ data: [1, 2] as unknown as Float32Array, shape: [1, 2] }, b),
    { name: "TypeError", message: /"a.data" to be a Float32Array/ },
  );
  await assert.rejects(() => matmul(a, null as never), { name: "TypeError", message: /"b"/ });
});

Deno.test("matmul() rejects a shape that does not match the data", async () => {
  await assert.rejects(() => matmul(t([1, 2, 3], [2, 2]), b), { name: "RangeError", message: /"a.data" to hold 4/ });
  await assert.rejects(() => matmul(t([1, 2], [2]), b), { name: "RangeError", message: /"a" to have rank 2/ });
});

Deno.test("matmul() rejects unknown options and backends", async () => {
  await assert.rejects(() => matmul(a, b, { backend: "cuda" as never }), {
    name: "RangeError",
    message: /"backend" to be one of "auto", "js", "wasm", "webgpu" but found "cuda"/,
  });
  await assert.rejects(() => matmul(a, b, { transpose: true } as never), {
    name: "RangeError",
    message: /Unknown option "transpose"/,
  });
  await assert.rejects(() => matmul(a, b, { alpha: NaN }), { name: "TypeError", message: /"alpha"/ });
});

Deno.test("matmul() with beta needs a c of the output's shape and leaves c unchanged", async () => {
  await assert.rejects(() => matmul(a, b, { beta: 1 }), { name: "TypeError", message: /"c"/ });
  const c = t([1, 1, 1], [1, 3]);
  await assert.rejects(() => matmul(a, b, { beta: 1, c }), { name: "RangeError", message: /"c" to have shape \[2, 2\]/ });
  const c2 = t([1, 1, 1, 1], [2, 2]);
  const out = await matmul(a, b, { beta: 2, c: c2, backend: "js" });
  assert.deepEqual([...out.data], [24, 30, 51, 66]);
  assert.deepEqual([...c2.data], [1, 1, 1, 1]);
  await dispose();
});

/** An M×N product's operands of seeded values in [-1, 1). */
function operands(m: number, k: number, n: number, seed: number) {
  let s = seed;
  const fill = (len: number) =>
    Float32Array.from({ length: len }, () => (s = (s * 16807) % 2147483647) / 1073741823.5 - 1);
  return { a: { data: fill(m * k), shape: [m, k] }, b: { data: fill(k * n), shape: [k, n] } };
}

for (const backend of ["js", "wasm", ...(HAS_ADAPTER ? ["webgpu" as const] : [])] as const) {
  for (const threads of backend === "wasm" ? [1, 2] : [1]) {
    const name = `matmul() writes into a lent out a fresh result's bits (${backend}, ${threads})`;
    Deno.test(name, async () => {
      await init({ threads });
      try {
        const { a, b } = operands(150, 170, 130, 11);
        const fresh = await matmul(a, b, { backend });
        const out = new Float32Array(150 * 130).fill(NaN);
        const lent = await matmul(a, b, { backend, out });
        assert.equal(lent.data, out);
        assert.deepEqual(lent.shape, [150, 130]);
        assert.deepEqual(new Uint32Array(out.buffer), new Uint32Array(fresh.data.buffer));
        // In place: C ← 0.5·A·B + 2·C, against a separate c.
        const c = { data: fresh.data.slice(), shape: [150, 130] };
        const apart = await matmul(a, b, { backend, alpha: 0.5, beta: 2, c });
        assert.deepEqual([...c.data], [...fresh.data]);
        const inPlace = await matmul(a, b, { backend, alpha: 0.5, beta: 2, c, out: c.data });
        assert.equal(inPlace.data, c.data);
        assert.deepEqual(new Uint32Array(c.data.buffer), new Uint32Array(apart.data.buffer));
        // A separate out with beta: c is read, out written, c left unchanged.
        const c2 = { data: fresh.data.slice(), shape: [150, 130] };
        await matmul(a, b, { backend, alpha: 0.5, beta: 2, c: c2, out: out.fill(NaN) });
        assert.deepEqual(new Uint32Array(out.buffer), new Uint32Array(apart.data.buffer));
        assert.deepEqual([...c2.data], [...fresh.data]);
      } finally {
        await dispose();
      }
    });
  }
}

Deno.test("matmul() rejects a bad out naming it and leaves it unchanged", async () => {
  const { a, b } = operands(4, 3, 5, 2);
  const c = { data: new Float32Array(20), shape: [4, 5] };
  await assert.rejects(() => matmul(a, b, { out: new Float64Array(20) as never }), {
    name: "TypeError",
    message: /"out" to be a Float32Array but found a Float64Array/,
  });
  await assert.rejects(() => matmul(a, b, { out: new Float32Array(21) }), {
    name: "RangeError",
    message: /"out" to hold 20 values \(the result's\) but found 21/,
  });
  const shared = new Float32Array(40);
  const aIn = { data: shared.subarray(0, 12), shape: [4, 3] };
  await assert.rejects(() => matmul(aIn, b, { out: shared.subarray(10, 30) }), {
    name: "RangeError",
    message: /"out" to share no memory with "a"/,
  });
  const bIn = { data: new Float32Array(shared.buffer, 100, 15), shape: [3, 5] };
  await assert.rejects(() => matmul(a, bIn, { out: shared.subarray(20, 40) }), {
    name: "RangeError",
    message: /"out" to share no memory with "b"/,
  });
  const big = new Float32Array(30).fill(7);
  const cIn = { data: big.subarray(0, 20), shape: [4, 5] };
  await assert.rejects(() => matmul(a, b, { beta: 1, c: cIn, out: big.subarray(10, 30) }), {
    name: "RangeError",
    message: /"out" to be "c.data" itself or to share no memory with it/,
  });
  assert.deepEqual([...big], Array(30).fill(7));
  // With beta 0, c is not read, so out may overlap it.
  const done = await matmul(a, b, { c, out: c.data, backend: "js" });
  assert.equal(done.data, c.data);
  await dispose();
});
