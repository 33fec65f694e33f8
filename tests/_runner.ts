/**
 * The logic of the test command (tests/run_all.ts), kept apart so that it can be tested
 * (tests/runner/runner_test.ts): running a command while echoing its output, reading what
 * `deno test` and the bundle harnesses report, and adding it all up.
 *
 * A suite passes only when everything it ran passed and the process said so: a non-zero exit,
 * a test file that did not load, or a report that cannot be read is a failure that names its
 * cause, never a silent gap in the count.
 *
 * @module
 */

/** One skipped check and why. */
export interface Skip {
  name: string;
  reason: string;
}

/** What one suite ran. */
export interface SuiteResult {
  passed: number;
  /** The names of the failed checks (and of files or processes that failed outside a check). */
  failed: string[];
  skipped: Skip[];
}

/**
 * The suffix by which a skipped test names its reason (see tests/_skip.ts): JUnit reports carry
 * no reason of their own.
 */
const SKIP_REASON = /\s*\(skipped: (.+)\)$/;

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** The text without terminal colour codes. */
export function plain(text: string): string {
  return text.replace(ANSI, "");
}

const ENTITIES: Record<string, string> = {
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&apos;": "'",
  "&#39;": "'",
  "&amp;": "&",
};

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|#39|amp);/g, (e) => ENTITIES[e]);
}

/** Splits a skipped test's name into the name proper and its reason. */
export function skipOf(name: string): Skip {
  const m = SKIP_REASON.exec(name);
  return m
    ? { name: name.slice(0, m.index), reason: m[1] }
    : { name, reason: "no reason given" };
}

/**
 * The test cases of Deno's JUnit report (steps included, as Deno lists them): passed, failed
 * (as `file: name`) and skipped (with the reason from the name).
 */
export function parseJUnit(xml: string): SuiteResult {
  const result: SuiteResult = { passed: 0, failed: [], skipped: [] };
  const cases = xml.matchAll(
    /<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g,
  );
  for (const c of cases) {
    const attrs = c[1];
    const name = unescapeXml(/\bname="([^"]*)"/.exec(attrs)?.[1] ?? "(unnamed)");
    const file = unescapeXml(/\bclassname="([^"]*)"/.exec(attrs)?.[1] ?? "");
    const body = c[3] ?? "";
    if (/<skipped/.test(body)) result.skipped.push(skipOf(name));
    else if (/<failure|<error/.test(body)) result.failed.push(file ? `${file}: ${name}` : name);
    else result.passed++;
  }
  return result;
}

/**
 * The test files that `deno test` could not load or that threw outside any test (a top-level
 * `throw`, a rejected top-level `await`): Deno reports them on the console only, as
 * `Uncaught error from ./x_test.ts FAILED`; they never reach the JUnit report.
 */
export function uncaughtFiles(output: string): string[] {
  const files = new Set<string>();
  for (const m of plain(output).matchAll(/^Uncaught error from (\S+) FAILED/gm)) files.add(m[1]);
  return [...files];
}

/**
 * When `deno test` stops before running anything (a module not found, a syntax error), the
 * first `error:` line and the file it points at.
 */
export function fatalError(output: string): string | null {
  const text = plain(output);
  const m = /^error: (.*)$/m.exec(text);
  if (m === null || /^Test failed$/.test(m[1])) return null;
  const after = text.slice(m.index);
  const at = /\bat (file:\/\/\S+?)(:\d+:\d+)?\s*$/m.exec(after);
  return at ? `${m[1]} (${at[1]})` : m[1];
}

/** The counts of Deno's own last summary line (`ok | 3 passed | 0 failed | 1 ignored`). */
export function consoleCounts(output: string): { passed: number; failed: number } | null {
  const lines = [...plain(output).matchAll(/^(?:ok|FAILED) \| (\d+) passed.*?\| (\d+) failed/gm)];
  const last = lines.at(-1);
  return last ? { passed: Number(last[1]), failed: Number(last[2]) } : null;
}

/**
 * The outcome of one `deno test` run from its exit code, its console output (stdout and stderr
 * together) and its JUnit report (null when none was written). Every way the run can go wrong
 * shows up as a named failure.
 */
export function tallyDeno(run: { code: number; output: string; xml: string | null }): SuiteResult {
  const result = run.xml === null
    ? { passed: 0, failed: [], skipped: [] } as SuiteResult
    : parseJUnit(run.xml);
  for (const file of uncaughtFiles(run.output)) {
    result.failed.push(`${file}: the file did not load or threw outside a test`);
  }
  if (run.xml === null) {
    const fatal = fatalError(run.output);
    result.failed.push(
      fatal === null
        ? `deno test wrote no report (exit code ${run.code})`
        : `deno test stopped before running: ${fatal}`,
    );
  }
  const counts = consoleCounts(run.output);
  const steps = run.xml === null ? 0 : (run.xml.match(/<testcase\b/g) ?? []).length;
  if (counts !== null && counts.failed > 0 && result.failed.length === 0) {
    result.failed.push(`deno test reported ${counts.failed} failed, none in its report`);
  }
  if (run.code !== 0 && result.failed.length === 0) {
    result.failed.push(`deno test exited with code ${run.code}`);
  }
  if (run.code === 0 && run.xml !== null && steps === 0) {
    result.failed.push("deno test ran no tests");
  }
  return result;
}

/**
 * The outcome of a harness (tests/_harness.mjs) from its `ok <name>`, `FAIL <name>` and
 * `SKIP <name> (skipped: <reason>)` lines and its exit code: a harness that exits non-zero or
 * reports nothing has failed, whatever its lines say.
 */
export function tallyHarness(run: { code: number; output: string }): SuiteResult {
  const text = plain(run.output);
  const passed = [...text.matchAll(/^ok (.*)$/gm)].length;
  const failed = [...text.matchAll(/^FAIL (.*)$/gm)].map((m) => m[1]);
  const skipped = [...text.matchAll(/^SKIP (.*)$/gm)].map((m) => skipOf(m[1]));
  if (run.code !== 0) failed.push(`the harness exited with code ${run.code}`);
  else if (passed + failed.length + skipped.length === 0) failed.push("the harness reported no checks");
  return { passed, failed, skipped };
}

/** Runs a command, echoing its stdout and stderr as they come, and keeps both. */
export async function execute(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; echo?: boolean } = {},
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const echo = opts.echo ?? true;
  let output = "";
  const pump = async (stream: ReadableStream<Uint8Array>, sink: typeof Deno.stdout) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      if (echo) await sink.write(chunk);
    }
  };
  await Promise.all([pump(child.stdout, Deno.stdout), pump(child.stderr, Deno.stderr)]);
  const { code } = await child.status;
  return { code, output };
}

/** Runs `deno test` on `paths` with a JUnit report and tallies it (see tallyDeno). */
export async function runDenoTests(opts: {
  deno: string;
  cwd: string;
  paths: string[];
  /** Extra flags, e.g. `--doc`, `--parallel`, `--ignore=…`. */
  flags?: string[];
  env?: Record<string, string>;
  echo?: boolean;
  /**
   * Runs again, at most this many times, when the process crashed at exit (SIGABRT or SIGSEGV)
   * after a complete report in which every test passed, saying so: Deno's WebGPU teardown
   * corrupts the heap at exit now and then (`double free or corruption`, measured here: 6–11 in
   * 30 runs of a dozen files that each open a device), after every test has run. Any failing
   * test, missing report or other exit code still fails at once.
   */
  retriesAfterCrashAtExit?: number;
  log?: (line: string) => void;
}): Promise<SuiteResult> {
  const report = await Deno.makeTempFile({ prefix: "tessera-junit-", suffix: ".xml" });
  try {
    for (let attempt = 0;; attempt++) {
      await Deno.remove(report).catch(() => {});
      const run = await execute(opts.deno, [
        "test",
        "-A",
        ...(opts.flags ?? []),
        `--junit-path=${report}`,
        ...opts.paths,
      ], { cwd: opts.cwd, env: opts.env, echo: opts.echo });
      const xml = await Deno.readTextFile(report).catch(() => null);
      const result = tallyDeno({ ...run, xml });
      if (attempt < (opts.retriesAfterCrashAtExit ?? 0) && crashedAtExit(run, xml, result)) {
        (opts.log ?? console.log)(
          `deno test crashed at exit (code ${run.code}) after all ${result.passed} tests passed: ` +
            `Deno's WebGPU teardown; running these files again`,
        );
        continue;
      }
      return result;
    }
  } finally {
    await Deno.remove(report).catch(() => {});
  }
}

/**
 * Whether a run's only fault is its exit: killed by SIGABRT (134) or SIGSEGV (139) after it
 * wrote a complete report and its console summary, with tests run and none failed.
 */
export function crashedAtExit(
  run: { code: number; output: string },
  xml: string | null,
  result: SuiteResult,
): boolean {
  const counts = consoleCounts(run.output);
  return (run.code === 134 || run.code === 139) && xml !== null && counts !== null &&
    counts.failed === 0 && counts.passed > 0 && result.passed > 0 &&
    result.failed.length === 1 && result.failed[0] === `deno test exited with code ${run.code}`;
}

/** Adds up the suites of one test command and writes its summary. */
export class Tally {
  passed = 0;
  readonly failed: string[] = [];
  readonly skipped: string[] = [];

  /** `log` receives each suite's line (console.log by default). */
  constructor(readonly log: (line: string) => void = console.log) {}

  /** Records one suite's result and prints its line `[suite] N passed, N failed, N skipped`. */
  add(suite: string, result: SuiteResult): void {
    this.passed += result.passed;
    this.failed.push(...result.failed.map((n) => `${suite}: ${n}`));
    this.skipped.push(...result.skipped.map((s) => `${suite}: ${s.name} — ${s.reason}`));
    this.log(
      `[${suite}] ${result.passed} passed, ${result.failed.length} failed, ${result.skipped.length} skipped`,
    );
  }

  /** The closing lines: every skip with its reason, every failure, then the counts. */
  summary(): string[] {
    const lines: string[] = [];
    if (this.skipped.length) lines.push("", "skipped:", ...this.skipped.map((s) => `  ${s}`));
    if (this.failed.length) lines.push("", "failed:", ...this.failed.map((s) => `  ${s}`));
    lines.push(`${this.passed} passed, ${this.failed.length} failed, ${this.skipped.length} skipped`);
    return lines;
  }

  get ok(): boolean {
    return this.failed.length === 0;
  }
}
