// Browser test of the built bundle in WebKit, Safari's engine (JavaScriptCore): Debian's
// WebKitGTK MiniBrowser on a virtual display (tests/_webkit.mjs), the suite of
// _engine_suite.mjs. WebKit has WASM SIMD but not relaxed SIMD, so the bundle runs its plain
// build, as in Safari; with SharedArrayBuffer turned on as Safari has it (see _webkit.mjs), a
// cross-origin-isolated page shares memory.
import { engineSuite } from "./_engine_suite.mjs";
import { resultFromWebKit, webkitMissing } from "../_webkit.mjs";

await engineSuite({
  name: "webkit",
  missing: webkitMissing(),
  resultFrom: resultFromWebKit,
  userAgent: /AppleWebKit\/.* Safari\//,
});
