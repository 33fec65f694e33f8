// The playground's server (examples/playground/serve.ts): isolation headers, and only its own
// files and dist/ served.
import assert from "node:assert/strict";
import { handle } from "../../examples/playground/serve.ts";

const get = (path: string, method = "GET") =>
  handle(new Request(`http://localhost${path}`, { method }));

Deno.test("serve.ts sends COOP/COEP unless the page asks for ?isolated=0", async () => {
  const isolated = await get("/?autorun");
  assert.equal(isolated.status, 200);
  assert.equal(isolated.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(isolated.headers.get("cross-origin-opener-policy"), "same-origin");
  assert.equal(isolated.headers.get("cross-origin-embedder-policy"), "require-corp");
  assert.match(await isolated.text(), /<script type="module" src="main.js">/);
  const plain = await get("/?isolated=0&autorun");
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get("cross-origin-opener-policy"), null);
  assert.equal(plain.headers.get("cross-origin-embedder-policy"), null);
  await plain.body?.cancel();
});

Deno.test("serve.ts answers HEAD without a body and refuses other methods", async () => {
  const head = await get("/main.js", "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(head.body, null);
  assert.equal((await get("/", "POST")).status, 405);
});

Deno.test("serve.ts serves nothing outside examples/playground/ and dist/", async () => {
  for (const path of ["/%2e%2e/%2e%2e/package.json", "/..%2fserve.ts", "/.gitignore", "/nope.js"]) {
    const response = await get(path);
    assert.equal(response.status, 404, path);
    await response.body?.cancel();
  }
});

Deno.test("serve.ts serves the digits networks and onnxruntime-web's WASM build, isolated", async () => {
  const onnx = await get("/digits/digits_denoiser.onnx");
  assert.equal(onnx.status, 200);
  assert.equal(onnx.headers.get("content-type"), "application/octet-stream");
  assert.equal(onnx.headers.get("cross-origin-embedder-policy"), "require-corp");
  const bytes = new Uint8Array(await onnx.arrayBuffer());
  const onDisk = await Deno.readFile(
    new URL("../../examples/digits/digits_denoiser.onnx", import.meta.url),
  );
  assert.equal(bytes.length, onDisk.length);
  const wasm = await get("/ort/ort-wasm-simd-threaded.wasm", "HEAD");
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get("content-type"), "application/wasm");
  assert.equal(wasm.headers.get("cross-origin-opener-policy"), "same-origin");
  for (const name of ["ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs"]) {
    const js = await get(`/ort/${name}`, "HEAD");
    assert.equal(js.status, 200, name);
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  }
});

Deno.test("serve.ts serves nothing else of examples/digits/ or node_modules/", async () => {
  for (
    const path of [
      "/digits/digits.mjs",
      "/digits/train.py",
      "/digits/digits_split.bin",
      "/digits/grid_heun.png",
      "/digits/%2e%2e/playground/serve.ts",
      "/digits/../digits/x.onnx",
      "/ort/ort.all.mjs",
      "/ort/ort.wasm.min.mjs.map",
      "/ort/../package.json",
      "/ort/%2e%2e/package.json",
      "/node_modules/onnxruntime-web/package.json",
      "/ort/",
    ]
  ) {
    const response = await get(path);
    assert.equal(response.status, 404, path);
    await response.body?.cancel();
  }
});
