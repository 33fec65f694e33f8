import assert from "node:assert/strict";
import { PARAMETERISATIONS } from "../../src/diffusion/mod.ts";

const ALL = Object.entries(PARAMETERISATIONS).map(([name, make]) => [name, make()] as const);

Deno.test("PARAMETERISATIONS: σ⁻¹ inverts σ and the derivatives match finite differences", () => {
  for (const [name, p] of ALL) {
    for (const t of [0.05, 0.3, 0.7, 0.95]) {
      const sigma = p.sigma(t);
      assert.ok(Math.abs(p.sigmaInv(sigma) - t) < 1e-9, `${name} σ⁻¹ at t=${t}`);
      const h = 1e-6;
      const dSigma = (p.sigma(t + h) - p.sigma(t - h)) / (2 * h);
      const dScale = (p.scale(t + h) - p.scale(t - h)) / (2 * h);
      assert.ok(
        Math.abs(p.sigmaDeriv(t) - dSigma) < 1e-5 * Math.max(1, Math.abs(dSigma)),
        `${name} σ' at ${t}`,
      );
      assert.ok(
        Math.abs(p.scaleDeriv(t) - dScale) < 1e-6 * Math.max(1, Math.abs(dScale)),
        `${name} s' at ${t}`,
      );
    }
  }
});

Deno.test("PARAMETERISATIONS follow EDM Table 1", () => {
  const vp = PARAMETERISATIONS.vp();
  const b = (t: number) => 0.5 * 19.9 * t * t + 0.1 * t;
  assert.ok(Math.abs(vp.sigma(1) - Math.sqrt(Math.exp(b(1)) - 1)) < 1e-9);
  assert.ok(Math.abs(vp.scale(1) - 1 / Math.sqrt(Math.exp(b(1)))) < 1e-15);
  // VP keeps unit total variance: s²(1 + σ²) = 1.
  for (const t of [0.1, 0.5, 1]) {
    assert.ok(Math.abs(vp.scale(t) ** 2 * (1 + vp.sigma(t) ** 2) - 1) < 1e-12);
  }
  const ve = PARAMETERISATIONS.ve();
  assert.equal(ve.sigma(4), 2);
  assert.equal(ve.sigmaInv(3), 9);
  assert.equal(ve.scale(7), 1);
  for (const name of ["edm", "iddpm"] as const) {
    const p = PARAMETERISATIONS[name]();
    assert.equal(p.sigma(1.5), 1.5);
    assert.equal(p.scale(1.5), 1);
  }
  // sub-VP: s·σ = 1 − e^{−B} (its standard deviation), same mean scale as VP.
  const sub = PARAMETERISATIONS["sub-vp"]();
  assert.ok(Math.abs(sub.scale(0.4) * sub.sigma(0.4) - (1 - Math.exp(-b(0.4)))) < 1e-12);
  assert.equal(sub.scale(0.4), vp.scale(0.4));
  // Flow matching: x_t = (1 − t)x₀ + tε.
  const flow = PARAMETERISATIONS.flow();
  assert.equal(flow.scale(0.25), 0.75);
  assert.ok(Math.abs(flow.scale(0.25) * flow.sigma(0.25) - 0.25) < 1e-15);
  assert.equal(flow.sigmaInv(3), 0.75);
});

Deno.test("PARAMETERISATIONS take their constants and reject unknown ones", () => {
  const steep = PARAMETERISATIONS.vp({ betaD: 30, betaMin: 0.5 });
  assert.ok(Math.abs(steep.sigma(1) - Math.sqrt(Math.expm1(15.5))) < 1e-9);
  assert.throws(() => PARAMETERISATIONS.vp({ betaD: -1 }), /"betaD"/);
  assert.throws(() => PARAMETERISATIONS.vp({ beta: 1 } as never), /Unknown option "beta"/);
});
