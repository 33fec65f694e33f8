import assert from "node:assert/strict";
import { preconditionedDenoiser, PRECONDITIONINGS } from "../../src/diffusion/mod.ts";

const info = { batch: 2, dim: 2 };

Deno.test("preconditionedDenoiser() computes c_skip·x + c_out·F(c_in·x; c_noise)", async () => {
  const seen: { input: number[]; noise: number }[] = [];
  const network = (input: Float32Array, cNoise: number) => {
    seen.push({ input: [...input], noise: cNoise });
    return input.map((v) => v * 2 + 1);
  };
  const denoise = preconditionedDenoiser(network, "edm");
  const x = Float32Array.from([1, -2, 0.5, 4]), sigma = 1.5;
  const out = (await denoise(x, sigma, info)) as Float32Array;
  const p = PRECONDITIONINGS.edm();
  for (let i = 0; i < 4; i++) {
    const f = 2 * Math.fround(p.cIn(sigma) * x[i]) + 1;
    assert.ok(Math.abs(out[i] - (p.cSkip(sigma) * x[i] + p.cOut(sigma) * f)) < 1e-6);
  }
  assert.equal(seen[0].noise, 0.25 * Math.log(1.5));
  assert.deepEqual([...x], [1, -2, 0.5, 4]); // input untouched
});

Deno.test("preconditionedDenoiser() stays synchronous for sync networks and awaits async ones", async () => {
  const sync = preconditionedDenoiser((x) => new Float32Array(x.length), "ve");
  assert.ok(sync(new Float32Array(4), 1, info) instanceof Float32Array);
  const asyncDenoise = preconditionedDenoiser(
    (x) => Promise.resolve(new Float32Array(x.length).fill(1)),
    "ve",
  );
  const pending = asyncDenoise(new Float32Array(4), 2, info);
  assert.ok(pending instanceof Promise);
  assert.deepEqual([...(await pending)], [2, 2, 2, 2]); // x + σ·1
});

Deno.test("preconditionedDenoiser() rejects bad networks, preconditionings and outputs", async () => {
  assert.throws(() => preconditionedDenoiser(null as never, "edm"), /"network"/);
  assert.throws(() => preconditionedDenoiser((x) => x, "karras" as never), /"preconditioning"/);
  assert.throws(() => preconditionedDenoiser((x) => x, {} as never), /"preconditioning"/);
  const short = preconditionedDenoiser(() => new Float32Array(1), "edm");
  assert.throws(() => short(new Float32Array(4), 1, info), /"network" to return 4 values/);
  const wrongType = preconditionedDenoiser(() => Promise.resolve([1, 2, 3, 4]) as never, "edm");
  await assert.rejects(
    async () => await wrongType(new Float32Array(4), 1, info),
    /"network" to return a Float32Array/,
  );
});
