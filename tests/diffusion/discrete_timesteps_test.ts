import assert from "node:assert/strict";
import { discreteTimesteps } from "../../src/diffusion/mod.ts";

Deno.test("discreteTimesteps() spaces leading, trailing and linspace grids as diffusers does", () => {
  assert.deepEqual([...discreteTimesteps({ steps: 10, offset: 1 })], [
    901,
    801,
    701,
    601,
    501,
    401,
    301,
    201,
    101,
    1,
  ]);
  assert.deepEqual([...discreteTimesteps({ steps: 10, spacing: "trailing" })], [
    999,
    899,
    799,
    699,
    599,
    499,
    399,
    299,
    199,
    99,
  ]);
  assert.deepEqual([...discreteTimesteps({ steps: 10, spacing: "linspace" })], [
    999,
    888,
    777,
    666,
    555,
    444,
    333,
    222,
    111,
    0,
  ]);
  // Halves round to even, like NumPy: linspace(0, 9, 3) = [0, 4.5, 9] → [0, 4, 9].
  assert.deepEqual([...discreteTimesteps({ steps: 3, trainSteps: 10, spacing: "linspace" })], [
    9,
    4,
    0,
  ]);
  assert.deepEqual([...discreteTimesteps({ steps: 3, trainSteps: 7, spacing: "trailing" })], [
    6,
    4,
    1,
  ]);
});

Deno.test("discreteTimesteps() rejects bad options by name", () => {
  assert.throws(() => discreteTimesteps({ steps: 0 }), /"steps"/);
  assert.throws(() => discreteTimesteps({ steps: 1001 }), /"steps"/);
  assert.throws(() => discreteTimesteps({ steps: 10, spacing: "middle" }), /"spacing"/);
  assert.throws(() => discreteTimesteps({ steps: 10, offset: -1 }), /"offset"/);
  // Leading timesteps stay below T: with N = T every offset would repeat timestep T − 1 (it was
  // clamped there before), and k = ⌊T/N⌋ = 20 for N = 50 leaves room for an offset of 19.
  assert.throws(() => discreteTimesteps({ steps: 1000, offset: 1 }), /"offset".*<= 0/);
  assert.equal(discreteTimesteps({ steps: 50, offset: 19 })[0], 999);
  assert.throws(() => discreteTimesteps({ steps: 50, offset: 20 }), /"offset"/);
  assert.equal(discreteTimesteps({ steps: 1000, offset: 500, spacing: "trailing" })[0], 999);
  assert.throws(
    () => discreteTimesteps({ steps: 10, space: "x" } as never),
    /Unknown option "space"/,
  );
});
