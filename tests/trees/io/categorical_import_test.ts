import assert from "node:assert/strict";
import { fromXGBoostJSON, XGBRegressor } from "../../../src/trees/mod.ts";
import { dispose, init } from "../../../src/runtime/mod.ts";
import { loadExplainFixture, loadUBJSON } from "../_explain_fixtures.ts";

/** The imported categorical model on one backend. */
function imported(source: string | Uint8Array, backend: "js" | "wasm"): XGBRegressor {
  const model = fromXGBoostJSON(source) as XGBRegressor;
  const json = model.toJSON();
  return XGBRegressor.fromJSON({ ...json, options: { ...(json.options as object), backend } });
}

Deno.test("fromXGBoostJSON() reproduces XGBoost's margins on categorical splits bit for bit", async () => {
  const fx = loadExplainFixture("categorical");
  // Row 1 holds category 9 in column 1, never seen in training; some rows miss values.
  assert.equal(fx.X[1][1], 9);
  const expected = fx.margin.map(Math.fround);
  for (const threads of [1, 2]) {
    await init({ threads });
    try {
      for (const backend of ["js", "wasm"] as const) {
        for (const source of [fx.model, loadUBJSON("categorical")]) {
          const margin = await imported(source, backend).predictMargin(fx.X);
          assert.deepEqual(Array.from(margin.data), expected, `${backend}, ${threads} thread(s)`);
        }
      }
    } finally {
      await dispose();
    }
  }
});

Deno.test("predictContributions() matches XGBoost 1.7 on categorical splits", async () => {
  const fx = loadExplainFixture("categorical");
  for (const backend of ["js", "wasm"] as const) {
    const model = imported(fx.model, backend);
    const phi = await model.predictContributions(fx.X);
    assert.deepEqual(phi.shape, fx.contribsShape);
    let worst = 0;
    for (let i = 0; i < fx.contribs.length; i++) {
      worst = Math.max(worst, Math.abs(phi.data[i] - fx.contribs[i]));
    }
    assert.ok(worst <= 1e-5, `${backend}: worst error ${worst}`);
    const inter = await model.predictInteractions(fx.X);
    worst = 0;
    for (let i = 0; i < fx.interactions.length; i++) {
      worst = Math.max(worst, Math.abs(inter.data[i] - fx.interactions[i]));
    }
    assert.ok(worst <= 1e-5, `${backend}: worst interaction error ${worst}`);
  }
});

Deno.test("categorical models survive toJSON()/fromJSON()", async () => {
  const fx = loadExplainFixture("categorical");
  const model = imported(fx.model, "js");
  const back = XGBRegressor.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
  assert.deepEqual((await back.predictMargin(fx.X)).data, (await model.predictMargin(fx.X)).data);
});
