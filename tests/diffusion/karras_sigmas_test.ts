import assert from "node:assert/strict";
import { karrasSigmas } from "../../src/diffusion/mod.ts";

Deno.test("karrasSigmas() ends with zero and has steps + 1 entries", () => {
  const sigmas = karrasSigmas({ steps: 18 });
  assert.equal(sigmas.length, 19);
  assert.equal(sigmas[18], 0);
  assert.ok(sigmas instanceof Float64Array);
});

Deno.test("karrasSigmas() follows EDM eq. 5", () => {
  const steps = 10, sigmaMin = 0.002, sigmaMax = 80, rho = 7;
  const sigmas = karrasSigmas({ steps, sigmaMin, sigmaMax, rho });
  for (let i = 0; i < steps; i++) {
    const expected = (sigmaMax ** (1 / rho) +
      (i / (steps - 1)) * (sigmaMin ** (1 / rho) - sigmaMax ** (1 / rho))) ** rho;
    assert.ok(Math.abs(sigmas[i] - expected) <= 1e-12 * expected, `entry ${i}`);
  }
  assert.ok(Math.abs(sigmas[0] - 80) < 1e-12 && Math.abs(sigmas[9] - 0.002) < 1e-15);
});

Deno.test("karrasSigmas() with one step is [sigmaMax, 0]", () => {
  assert.deepEqual([...karrasSigmas({ steps: 1, sigmaMax: 5 })], [5, 0]);
});

Deno.test("karrasSigmas() rejects bad options by name", () => {
  assert.throws(() => karrasSigmas({ steps: 0 }), /"steps".*>= 1/);
  assert.throws(() => karrasSigmas({ steps: 2.5 }), TypeError);
  assert.throws(() => karrasSigmas({ steps: 4, sigmaMin: 0 }), /"sigmaMin"/);
  assert.throws(() => karrasSigmas({ steps: 4, sigmaMin: 2, sigmaMax: 1 }), /"sigmaMax"/);
  assert.throws(() => karrasSigmas({ steps: 4, rho: -1 }), /"rho"/);
  assert.throws(() => karrasSigmas({ steps: 4, sigma: 1 } as never), /Unknown option "sigma"/);
  assert.throws(() => karrasSigmas(null as never), TypeError);
});
