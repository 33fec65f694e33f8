import assert from "node:assert/strict";
import { expPortable, jsTrees } from "../../src/backends/js/trees.ts";
import { registerConformance } from "./_kernel_conformance.ts";

registerConformance(jsTrees);

Deno.test("expPortable() stays within two ulps of Math.exp and handles the edges", () => {
  const ulp = (v: number) => Math.abs(v) * 2 ** -52;
  for (let x = -745; x <= 709.4; x += 0.0137) {
    const expected = Math.exp(x);
    const actual = expPortable(x);
    // Subnormal results keep fewer bits: compare them absolutely.
    const tolerance = Math.max(2 * ulp(expected), 5e-324);
    assert.ok(Math.abs(actual - expected) <= tolerance, `e^${x}: ${actual} vs ${expected}`);
  }
  assert.equal(expPortable(0), 1);
  assert.equal(expPortable(800), Infinity);
  assert.equal(expPortable(-800), 0);
  assert.ok(Number.isNaN(expPortable(NaN)));
  assert.equal(expPortable(-Infinity), 0);
});
