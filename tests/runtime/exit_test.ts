/**
 * Idle pool workers do not keep a Deno process alive: a script that runs a fit, attention and
 * sample() across two workers and never calls dispose() exits by itself with code 0, and one
 * that throws after a call exits with the error. Each runs as a child process
 * (tests/runtime/_no_dispose.mjs), from the source tree and from the built bundle.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);
const script = new URL("tests/runtime/_no_dispose.mjs", root).pathname;
/**
 * How long a child may take to exit after its last line. Exiting takes milliseconds; a process
 * held by its workers never exits, so this only has to stay clear of a slow, loaded machine.
 */
const GRACE_MS = 10_000;

interface Outcome {
  code: number;
  lines: string[];
  stderr: string;
  /** Whether the child had to be killed after its last expected line. */
  hung: boolean;
}

/** Runs the script on `module`; the child is killed GRACE_MS after it prints `lastLine`. */
async function runScript(module: string, args: string[], lastLine: string): Promise<Outcome> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, new URL(module, root).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines: string[] = [];
  let hung = false, timer: ReturnType<typeof setTimeout> | undefined;
  // A child stuck before its last line is a failure too, not a test that never ends.
  const stuck = setTimeout(() => {
    hung = true;
    child.kill("SIGKILL");
  }, 20 * GRACE_MS);
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of child.stdout) {
    text += decoder.decode(chunk, { stream: true });
    const parts = text.split("\n");
    text = parts.pop()!;
    lines.push(...parts);
    if (timer === undefined && lines.includes(lastLine)) {
      timer = setTimeout(() => {
        hung = true;
        child.kill("SIGKILL");
      }, GRACE_MS);
    }
  }
  const { code } = await child.status;
  clearTimeout(timer);
  clearTimeout(stuck);
  return { code, lines, stderr: await stderr, hung };
}

for (const module of ["src/mod.ts", "dist/tessera.js"]) {
  Deno.test(`a Deno script on ${module} that never calls dispose() exits by itself with code 0`, async () => {
    const run = await runScript(module, [], "done");
    assert.equal(run.hung, false, `still running ${GRACE_MS} ms after its last line`);
    assert.deepEqual(run.lines, ["fit", "attention", "sample", "done"], run.stderr);
    assert.equal(run.code, 0, run.stderr);
  });
}

Deno.test("a Deno script that throws after a call exits non-zero with the error", async () => {
  const run = await runScript("dist/tessera.js", ["throw"], "fit");
  assert.equal(run.hung, false, `still running ${GRACE_MS} ms after it threw`);
  assert.deepEqual(run.lines, ["fit"]);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /Thrown by the script after a call/);
});
