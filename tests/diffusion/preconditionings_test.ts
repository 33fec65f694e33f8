import assert from "node:assert/strict";
import { PRECONDITIONINGS } from "../../src/diffusion/mod.ts";

Deno.test("PRECONDITIONINGS.edm has EDM's constants (σ_data = 0.5)", () => {
  const p = PRECONDITIONINGS.edm();
  for (const s of [0.002, 0.5, 3, 80]) {
    assert.ok(Math.abs(p.cSkip(s) - 0.25 / (s * s + 0.25)) < 1e-15);
    assert.ok(Math.abs(p.cOut(s) - (s * 0.5) / Math.sqrt(s * s + 0.25)) < 1e-15);
    assert.ok(Math.abs(p.cIn(s) - 1 / Math.sqrt(s * s + 0.25)) < 1e-15);
    assert.ok(Math.abs(p.cNoise(s) - 0.25 * Math.log(s)) < 1e-15);
    // Unit variance of the network's target: c_skip² σ_d² + c_out²... the training target has
    // unit variance when c_out² = σ²σ_d²/(σ²+σ_d²) = σ_d²(1 − c_skip).
    assert.ok(Math.abs(p.cOut(s) ** 2 - 0.25 * (1 - p.cSkip(s))) < 1e-12);
  }
});

Deno.test("PRECONDITIONINGS.vp, .ve and .iddpm follow EDM Table 1", () => {
  const vp = PRECONDITIONINGS.vp();
  assert.equal(vp.cSkip(2), 1);
  assert.equal(vp.cOut(2), -2);
  assert.equal(vp.cIn(2), 1 / Math.sqrt(5));
  // c_noise = (M − 1)·σ⁻¹(σ): at σ = σ(1) it is 999.
  const sigmaAtOne = Math.sqrt(Math.expm1(0.5 * 19.9 + 0.1));
  assert.ok(Math.abs(vp.cNoise(sigmaAtOne) - 999) < 1e-9);
  const ve = PRECONDITIONINGS.ve();
  assert.deepEqual([ve.cSkip(4), ve.cOut(4), ve.cIn(4), ve.cNoise(4)], [1, 4, 1, Math.log(2)]);
  const iddpm = PRECONDITIONINGS.iddpm();
  assert.equal(iddpm.cOut(3), -3);
  assert.equal(iddpm.cIn(3), 1 / Math.sqrt(10));
  // c_noise = M − 1 − argmin_j |u_j − σ|: σ_max ≈ u_8 maps to 991, u_{M−1} to 0, tiny σ to −1.
  assert.equal(iddpm.cNoise(80.20370184547417), 991);
  assert.equal(iddpm.cNoise(0.006425412771141183), 0);
  assert.equal(iddpm.cNoise(1e-9), -1);
  assert.throws(() => PRECONDITIONINGS.edm({ sigmaData: 0 }), /"sigmaData"/);
});
