// A browser started as a child process on a page that reports by itself (POST to its own
// server): the handle of the process and the wait for the page's result, shared by
// tests/_firefox.mjs and tests/_webkit.mjs.

/**
 * The handle of a started browser `child` (its stderr piped): `exited` resolves with its exit
 * code if it ends by itself, `stderr()` is its last 4,000 characters, `close()` ends it (SIGTERM,
 * then SIGKILL after 5 s) and then runs `cleanup` (a profile to remove, a display to stop).
 */
export function browserProcess(child, cleanup = async () => {}) {
  let stderr = "";
  child.stderr.on("data", (d) => void (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    exited,
    stderr: () => stderr,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      await cleanup();
    },
  };
}

/**
 * Resolves with `result` (what the page reports) unless `browser` (a browserProcess handle, its
 * name `name`) exits first or `timeoutMs` pass; closes the browser either way.
 */
export async function resultFromProcess(name, browser, result, timeoutMs) {
  let timer;
  const exited = browser.exited.then((code) => {
    throw new Error(`${name} exited (${code}): ${browser.stderr()}`);
  });
  const late = new Promise((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`${name}: no result in ${timeoutMs} ms (its stderr: ${browser.stderr()})`),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([result, exited, late]);
  } finally {
    clearTimeout(timer);
    await browser.close();
  }
}
