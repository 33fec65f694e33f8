// Fault injection in headless Chromium: the cases of tests/runtime/_fault_cases.ts, bundled from
// src/ (tests/runtime/_fault_bundle.mjs), run in a plain page (web workers with copied memory)
// and a cross-origin-isolated one (COOP/COEP: web workers sharing one WebAssembly.Memory): a
// worker terminated mid-call, WASM traps, memory.grow failing, calls too big for WASM memory.
// Prints `ok <name>` / `FAIL <name>` lines for tests/run_all.ts.
import { createServer } from "node:http";
import { launchChromium } from "../_chromium.mjs";
import { test } from "../_harness.mjs";
import { faultBundle } from "../runtime/_fault_bundle.mjs";

/** Each case's limit: a pool that hangs fails its case (they take well under a second). */
const LIMIT_MS = 60_000;

const bundle = await faultBundle();
const server = await new Promise((resolve) => {
  const s = createServer((req, res) => {
    const headers = req.url.startsWith("/isolated")
      ? {
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-embedder-policy": "require-corp",
      }
      : {};
    if (req.url.endsWith("/fault_cases.mjs")) {
      res.writeHead(200, { ...headers, "content-type": "text/javascript" }).end(bundle);
      return;
    }
    res.writeHead(200, { ...headers, "content-type": "text/html" });
    res.end(`<!doctype html><title>faults</title><script type="module">
      import { runFaultCases } from "./fault_cases.mjs";
      globalThis.results = await runFaultCases(${LIMIT_MS});
    </script>`);
  });
  s.listen(0, "127.0.0.1", () => resolve(s));
});
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await launchChromium();
try {
  for (
    const [label, path, isolated] of [["plain page", "/plain/", false], [
      "isolated page",
      "/isolated/",
      true,
    ]]
  ) {
    const tab = await browser.newPage();
    const errors = [];
    tab.on("pageerror", (e) => errors.push(e));
    let results = [];
    await test(`browser faults (${label}): the cases run`, async () => {
      await tab.goto(`${origin}${path}`);
      await tab.waitForFunction(() => globalThis.results !== undefined, null, {
        timeout: 20 * LIMIT_MS,
      });
      results = await tab.evaluate(() => globalThis.results);
      const isolation = await tab.evaluate(() => self.crossOriginIsolated);
      if (isolation !== isolated) throw new Error(`crossOriginIsolated is ${isolation}`);
      if (errors.length) throw errors[0];
      // Copied memory alone on the plain page; both kinds where memory can be shared.
      if (!results.some((r) => r.name.includes("(copied memory)"))) {
        throw new Error("no copied-memory case ran");
      }
      if (isolated !== results.some((r) => r.name.includes("(shared memory)"))) {
        throw new Error(`shared-memory cases ${isolated ? "missing" : "ran"} on the ${label}`);
      }
    });
    for (const result of results) {
      await test(`browser faults (${label}): ${result.name}`, () => {
        if (!result.ok) throw new Error(result.error);
      });
    }
    await tab.close();
  }
} finally {
  await browser.close();
  server.close();
}
