// The memory soak in headless Chromium on the built bundle: each call family of
// _memory_cases.mjs in a fresh cross-origin-isolated page (COOP/COEP: the workers share one
// WebAssembly.Memory), warmed up, then 20,000 calls; fails when the page's memory as
// `performance.measureUserAgentSpecificMemory()` reports it (after a full GC; the page's JS
// heaps and its workers') grows by more than 5 MiB. That API exists only on isolated pages.
// Not part of `npm test`: `npm run soak` runs it.
//
// What it measures is the live JS heaps (not the resident set), so V8's young-generation sizing
// does not enter and `--young` does not apply.
//
// Usage: node tests/soak/memory_soak_browser.mjs [--family TEXT] [--calls N] [--warmup N]
//          [--rounds N] [--window N] [--limit-mib N]
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { CHROMIUM_ARGS, launchChromium } from "../_chromium.mjs";
import { FAMILIES } from "./_memory_cases.mjs";
import { describe } from "./_memory_soak.mjs";
import { parseArgs, selectFamilies } from "./_cli.mjs";

const opts = parseArgs(process.argv.slice(2));
const root = new URL("../../", import.meta.url);
const FILES = {
  "/tessera.js": "dist/tessera.js",
  "/tessera.relaxed.js": "dist/tessera.relaxed.js",
  "/tessera.simd.js": "dist/tessera.simd.js",
  "/_memory_cases.mjs": "tests/soak/_memory_cases.mjs",
  "/_memory_soak.mjs": "tests/soak/_memory_soak.mjs",
};

// One origin, isolated: the page, the bundle and the soak modules.
const server = await new Promise((resolve) => {
  const s = createServer(async (req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    const headers = {
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    };
    if (path === "/") {
      res.writeHead(200, { ...headers, "content-type": "text/html" });
      res.end("<!doctype html><title>tessera memory soak</title>");
      return;
    }
    const file = FILES[path];
    if (file === undefined) return void res.writeHead(404).end();
    try {
      const body = await readFile(new URL(file, root));
      res.writeHead(200, { ...headers, "content-type": "text/javascript" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  s.listen(0, "127.0.0.1", () => resolve(s));
});
const origin = `http://127.0.0.1:${server.address().port}`;

// gc() for the page, and measurements answered at once instead of at the next natural GC.
const browser = await launchChromium([
  ...CHROMIUM_ARGS,
  "--js-flags=--expose-gc",
  "--enable-blink-features=ForceEagerMeasureMemory",
]);
const names = selectFamilies(Object.keys(FAMILIES), opts.family);
let failed = 0;
console.log(
  `memory soak, Chromium ${
    browser.context.browser()?.version() ?? ""
  }, performance.measureUserAgentSpecificMemory()`,
);
for (const name of names) {
  const tab = await browser.newPage();
  const errors = [];
  tab.on("pageerror", (e) => errors.push(e));
  try {
    await tab.goto(`${origin}/`);
    const result = await tab.evaluate(async ({ name, opts }) => {
      if (!self.crossOriginIsolated) throw new Error("The soak page is not cross-origin isolated");
      const lib = await import("/tessera.js");
      const { FAMILIES } = await import("/_memory_cases.mjs");
      const { soakFamily } = await import("/_memory_soak.mjs");
      const measure = async () => {
        for (let i = 0; i < 3; i++) self.gc();
        const m = await performance.measureUserAgentSpecificMemory();
        const workers = m.breakdown
          .filter((b) => b.attribution.some((a) => a.scope === "DedicatedWorkerGlobalScope"))
          .reduce((sum, b) => sum + b.bytes, 0);
        return { bytes: m.bytes, detail: `workers ${(workers / 2 ** 20).toFixed(1)} MiB` };
      };
      const info = await lib.init();
      const result = await soakFamily(FAMILIES[name], lib, measure, opts);
      await lib.dispose();
      return { ...result, threads: info.threads };
    }, { name, opts });
    if (errors.length) throw errors[0];
    const text = describe(`chromium ${name} (${result.threads} threads)`, result, opts.limitMiB, {
      exact: true,
    });
    if (text.startsWith("FAIL")) failed++;
    console.log(text);
  } catch (error) {
    failed++;
    console.log(`FAIL chromium ${name}: ${error?.stack ?? error}`);
  } finally {
    await tab.close();
  }
}
console.log(`${names.length - failed} passed, ${failed} failed`);
await browser.close();
server.close();
process.exitCode = failed > 0 ? 1 : 0;
