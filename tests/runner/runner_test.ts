/**
 * The test command's own logic (tests/_runner.ts): scratch suites run through the same
 * `runDenoTests` that tests/run_all.ts uses must fail, naming the file, when a test file throws
 * while loading, rejects a top-level await or cannot be resolved; skips are counted with their
 * reasons; harness output is counted and a crashed harness fails.
 */
import assert from "node:assert/strict";
import {
  consoleCounts,
  crashedAtExit,
  parseJUnit,
  runDenoTests,
  skipOf,
  type SuiteResult,
  Tally,
  tallyDeno,
  tallyHarness,
  uncaughtFiles,
} from "../_runner.ts";
import { skippable } from "../_skip.ts";

/** Writes `files` into a fresh folder and runs `deno test` on it the way run_all does. */
async function scratchSuite(files: Record<string, string>): Promise<SuiteResult> {
  const dir = await Deno.makeTempDir({ prefix: "tessera-runner-" });
  try {
    for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(`${dir}/${name}`, text);
    return await runDenoTests({
      deno: Deno.execPath(),
      cwd: dir,
      flags: ["--no-check", "--parallel"],
      paths: ["."],
      echo: false,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const GOOD = `
Deno.test("adds", () => { if (1 + 1 !== 2) throw new Error("no"); });
Deno.test({ name: "needs a GPU (skipped: no WebGPU adapter on this host)", ignore: true, fn() {} });
`;

Deno.test("runDenoTests() passes a clean suite and lists its skip with the reason", async () => {
  const result = await scratchSuite({ "good_test.ts": GOOD });
  assert.deepEqual(result, {
    passed: 1,
    failed: [],
    skipped: [{ name: "needs a GPU", reason: "no WebGPU adapter on this host" }],
  });
});

Deno.test("runDenoTests() fails a suite whose file throws while loading, naming the file", async () => {
  const result = await scratchSuite({
    "good_test.ts": GOOD,
    "boom_test.ts": `Deno.test("never runs", () => {});\nthrow new Error("boom");\n`,
    "fixture_test.ts": `await Promise.reject(new Error("fixture missing"));\nDeno.test("x", () => {});\n`,
  });
  assert.equal(result.passed, 1);
  assert.deepEqual(result.failed.toSorted(), [
    "./boom_test.ts: the file did not load or threw outside a test",
    "./fixture_test.ts: the file did not load or threw outside a test",
  ]);
  const lines: string[] = [];
  const tally = new Tally((line) => lines.push(line));
  tally.add("scratch", result);
  assert.deepEqual(lines, ["[scratch] 1 passed, 2 failed, 1 skipped"]);
  assert.equal(tally.ok, false);
  assert.equal(tally.summary().at(-1), "1 passed, 2 failed, 1 skipped");
});

Deno.test("runDenoTests() fails a suite that cannot start, naming the file", async () => {
  const result = await scratchSuite({
    "good_test.ts": GOOD,
    "import_test.ts": `import "./missing.ts";\nDeno.test("x", () => {});\n`,
  });
  assert.equal(result.passed, 0);
  assert.equal(result.failed.length, 1);
  assert.match(result.failed[0], /^deno test stopped before running: .*missing\.ts.*import_test\.ts/);
});

Deno.test("runDenoTests() counts failed tests and steps by file and name", async () => {
  const result = await scratchSuite({
    "steps_test.ts": `Deno.test("outer", async (t) => {
      await t.step("fine", () => {});
      await t.step("broken", () => { throw new Error("no"); });
    });`,
  });
  assert.equal(result.passed, 1);
  assert.deepEqual(result.failed.toSorted(), ["./steps_test.ts: outer", "./steps_test.ts: outer > broken"]);
});

Deno.test("crashedAtExit() holds only for an abort or segfault after a complete, all-passed run", () => {
  const xml = `<testsuites><testsuite name="./a_test.ts">
    <testcase name="a" classname="./a_test.ts" time="0"></testcase>
  </testsuite></testsuites>`;
  const passed = "ok | 1 passed | 0 failed (5ms)\n\ndouble free or corruption (out)\n";
  const check = (code: number, output: string, report: string | null) =>
    crashedAtExit({ code, output }, report, tallyDeno({ code, output, xml: report }));
  assert.equal(check(134, passed, xml), true);
  assert.equal(check(139, passed, xml), true);
  assert.equal(check(1, passed, xml), false, "an ordinary failure exit");
  assert.equal(check(134, passed, null), false, "no report");
  assert.equal(check(134, "double free or corruption (out)\n", xml), false, "no console summary");
  assert.equal(check(134, "FAILED | 0 passed | 1 failed (5ms)\n", xml), false, "a failed test");
  const failing = `<testsuites><testsuite name="./a_test.ts">
    <testcase name="a" classname="./a_test.ts" time="0"><failure message="x"/></testcase>
  </testsuite></testsuites>`;
  assert.equal(check(134, passed, failing), false, "a failure in the report");
});

Deno.test("tallyDeno() turns a non-zero exit with a clean report into a failure", () => {
  const xml = `<testsuites><testsuite name="./a_test.ts">
    <testcase name="a &amp; b" classname="./a_test.ts" time="0"></testcase>
  </testsuite></testsuites>`;
  assert.deepEqual(tallyDeno({ code: 0, output: "", xml }), { passed: 1, failed: [], skipped: [] });
  assert.deepEqual(tallyDeno({ code: 1, output: "", xml }).failed, ["deno test exited with code 1"]);
  assert.deepEqual(tallyDeno({ code: 1, output: "", xml: null }).failed, [
    "deno test wrote no report (exit code 1)",
  ]);
  assert.deepEqual(tallyDeno({ code: 0, output: "", xml: "<testsuites></testsuites>" }).failed, [
    "deno test ran no tests",
  ]);
  const output = "\x1b[0m\x1b[31mFAILED\x1b[0m | 3 passed | 2 failed | 1 ignored (5ms)\n";
  assert.deepEqual(consoleCounts(output), { passed: 3, failed: 2 });
  assert.deepEqual(tallyDeno({ code: 1, output, xml }).failed, [
    "deno test reported 2 failed, none in its report",
  ]);
});

Deno.test("parseJUnit() and uncaughtFiles() read Deno's formats", () => {
  const xml = `<testsuite name="./x_test.ts">
    <testcase name="p" classname="./x_test.ts" time="0.000" line="1" col="6">
    </testcase>
    <testcase name="s" classname="./x_test.ts" time="0.000"><skipped/></testcase>
    <testcase name="f &gt; g" classname="./x_test.ts" time="0.000">
      <failure message="Uncaught Error: x">Error: x</failure>
    </testcase>
  </testsuite>`;
  assert.deepEqual(parseJUnit(xml), {
    passed: 1,
    failed: ["./x_test.ts: f > g"],
    skipped: [{ name: "s", reason: "no reason given" }],
  });
  const output = "Uncaught error from ./b_test.ts \x1b[0m\x1b[31mFAILED\x1b[0m\n" +
    "./b_test.ts (uncaught error)\nUncaught error from ./b_test.ts FAILED\n";
  assert.deepEqual(uncaughtFiles(output), ["./b_test.ts"]);
});

Deno.test("tallyHarness() counts ok, FAIL and SKIP lines and fails a harness that crashed", () => {
  const output = "ok one\nFAIL two\nSKIP three (skipped: no WebGPU in Node)\nnoise\n";
  assert.deepEqual(tallyHarness({ code: 0, output }), {
    passed: 1,
    failed: ["two"],
    skipped: [{ name: "three", reason: "no WebGPU in Node" }],
  });
  assert.deepEqual(tallyHarness({ code: 1, output: "ok one\n" }).failed, [
    "the harness exited with code 1",
  ]);
  assert.deepEqual(tallyHarness({ code: 0, output: "" }).failed, ["the harness reported no checks"]);
});

Deno.test("skippable() names the reason in the skipped test's name, which skipOf() reads back", () => {
  const fn = () => {};
  assert.deepEqual(skippable("runs", null, fn), { name: "runs", fn });
  const skipped = skippable("webgpu case", "no WebGPU adapter on this host", fn);
  assert.equal(skipped.ignore, true);
  assert.deepEqual(skipOf(skipped.name), {
    name: "webgpu case",
    reason: "no WebGPU adapter on this host",
  });
});
