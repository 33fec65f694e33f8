/**
 * The test command (`npm test`, `deno task test`): builds, type-checks, runs every Deno suite and
 * the JSDoc examples, then the built bundle in Node 20, headless Chromium and Firefox and workerd, and
 * finally the packed package the way users install it (tests/package/).
 * Every skipped check is listed with its reason; the run ends with one plain line
 * `N passed, N failed, N skipped` and exits non-zero when anything failed, a test file did not
 * load, or a suite's process exited non-zero.
 *
 * Usage: deno run -A tests/run_all.ts [--skip-build] [--only typecheck|deno|node|node-faults|node-bundle|browser|browser-faults|firefox|webkit|edge|package|playground]
 *
 * A new suite is one more `suite(…)` line below; the parsing and tallying live in
 * tests/_runner.ts (tested by tests/runner/runner_test.ts).
 */
import { build } from "../build.ts";
import { execute, runDenoTests, type SuiteResult, Tally, tallyHarness } from "./_runner.ts";

const root = new URL("..", import.meta.url).pathname;
const deno = Deno.execPath();
const only = Deno.args.includes("--only") ? Deno.args[Deno.args.indexOf("--only") + 1] : null;
const tally = new Tally();

/** Runs one suite unless `--only` names another; a suite that throws counts as failed. */
async function suite(name: string, run: () => Promise<SuiteResult>) {
  if (only !== null && only !== name) return;
  try {
    tally.add(name, await run());
  } catch (error) {
    console.error(error);
    tally.add(name, { passed: 0, failed: [`the suite did not run: ${error}`], skipped: [] });
  }
}

/** A harness that prints `ok` / `FAIL` / `SKIP` lines (tests/_harness.mjs), run by Node. */
function harness(file: string): () => Promise<SuiteResult> {
  return async () => tallyHarness(await execute("node", [file], { cwd: root }));
}

/** The .ts files under a folder of the project, recursively. */
function* walkTs(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(`${root}${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (path === "tests/package/consumer") continue; // checked against the installed package
    if (entry.isDirectory) yield* walkTs(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

if (!Deno.args.includes("--skip-build")) {
  console.log("building…");
  await build();
}

await suite("typecheck", async () => {
  const files = ["src/mod.ts", "build.ts", ...walkTs("tests"), ...walkTs("bench")];
  const { code } = await execute(deno, ["check", ...files], { cwd: root });
  return { passed: code === 0 ? 1 : 0, failed: code === 0 ? [] : ["deno check"], skipped: [] };
});
// The test files that open WebGPU devices run in a process of their own: Deno's WebGPU teardown
// crashes a process at exit now and then, after its tests have run (see runDenoTests), and that
// process alone is then run again.
const WEBGPU_FILES = [
  "tests/attention/gated_attention_unit_test.ts",
  "tests/attention/linear_attention_test.ts",
  "tests/attention/mixed_chunk_attention_test.ts",
  "tests/attention/nonfinite_test.ts",
  "tests/attention/property_test.ts",
  "tests/attention/scaled_dot_product_attention_test.ts",
  "tests/attention/scaled_dot_product_attention_with_lse_test.ts",
  "tests/attention/webgpu_kernels_test.ts",
  "tests/backends/matmul_property_test.ts",
  "tests/backends/matmul_test.ts",
  "tests/diffusion/wasm_test.ts",
  "tests/linalg/matmul_test.ts",
  "tests/runtime/webgpu_info_test.ts",
];
await suite("deno", async () => {
  const rest = await runDenoTests({
    deno,
    cwd: root,
    flags: [
      "--no-check", "--doc", "--parallel",
      `--ignore=tests/browser,tests/edge,tests/node,tests/playground/playground_test.mjs,${WEBGPU_FILES.join(",")}`,
    ],
    paths: ["tests/", "src/"],
    env: { DENO_JOBS: "2" },
  });
  const webgpu = await runDenoTests({
    deno,
    cwd: root,
    flags: ["--no-check", "--parallel"],
    paths: WEBGPU_FILES,
    env: { DENO_JOBS: "2" },
    retriesAfterCrashAtExit: 2,
  });
  return {
    passed: rest.passed + webgpu.passed,
    failed: [...rest.failed, ...webgpu.failed],
    skipped: [...rest.skipped, ...webgpu.skipped],
  };
});
// Deno's results of the bundle cases from src/, computed once here for the harnesses
// below (each computes them itself when run alone).
if (only === null || ["node", "node-bundle", "browser", "firefox", "webkit", "edge"].includes(only)) {
  const file = `${root}build/bundle_expected.json`;
  const run = await execute(deno, ["run", "-A", "tests/bundle/expected.ts", "--out", file], { cwd: root });
  if (run.code === 0) Deno.env.set("TESSERA_BUNDLE_EXPECTED", file);
}
await suite("node", harness("tests/node/node_test.mjs"));
await suite("node-faults", harness("tests/node/faults_test.mjs"));
await suite("node-bundle", harness("tests/node/bundle_test.mjs"));
await suite("browser", harness("tests/browser/browser_test.mjs"));
await suite("browser-faults", harness("tests/browser/faults_test.mjs"));
await suite("firefox", harness("tests/browser/firefox_test.mjs"));
await suite("webkit", harness("tests/browser/webkit_test.mjs"));
await suite("edge", harness("tests/edge/edge_test.mjs"));
await suite("package", harness("tests/package/package_test.mjs"));
await suite("playground", harness("tests/playground/playground_test.mjs"));

for (const line of tally.summary()) console.log(line);
Deno.exit(tally.ok ? 0 : 1);
