// The playground's browser tests (./_playground.mjs) run under Node:
//
//   node tests/playground/playground_test.mjs
//
// `deno test tests/` also finds this file by its name; under Deno it only registers one ignored
// test that says how to run it, so the Chromium run never starts inside the Deno suites.
if ("Deno" in globalThis) {
  globalThis.Deno.test({
    name: "playground: browser tests (skipped: they run under Node, node tests/playground/playground_test.mjs, as the playground suite of npm test)",
    ignore: true,
    fn() {},
  });
} else {
  await import("./_playground.mjs");
}
