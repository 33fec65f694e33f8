import assert from "node:assert/strict";
import { dispose, matmul } from "../../src/mod.ts";

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
