// WebKit (Safari's engine: JavaScriptCore) on a page that reports by itself: Debian's WebKitGTK
// MiniBrowser, shown on a virtual X display (Xvfb), in private mode, with no driver; the page
// POSTs what it has to tell to its own server. WebKitGTK leaves SharedArrayBuffer off unless
// JavaScriptCore is told otherwise (JSC_useSharedArrayBuffer); Safari has it on a
// cross-origin-isolated page, so it is turned on here, and a cross-origin-isolated page then
// shares memory as in Safari (a plain page still cannot send one to a worker: copies). Shared by
// the WebKit tests and the WebKit run of the browser benchmark.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { browserProcess, resultFromProcess } from "./_browser_process.mjs";

/** WebKitGTK's MiniBrowser: MINIBROWSER_PATH, else Debian's (package libwebkit2gtk-4.1-0). */
export const MINIBROWSER_PATH = process.env.MINIBROWSER_PATH ??
  "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
/** The virtual X server (package xvfb). */
const XVFB_PATH = "/usr/bin/Xvfb";

/** Why WebKit cannot run here (MiniBrowser or Xvfb not installed), or null where it can. */
export function webkitMissing() {
  return existsSync(MINIBROWSER_PATH) && existsSync(XVFB_PATH)
    ? null
    : `no WebKitGTK MiniBrowser at ${MINIBROWSER_PATH} or no Xvfb ` +
      "(apt-get install libwebkit2gtk-4.1-0 xvfb, or set MINIBROWSER_PATH)";
}

/** Starts Xvfb on a free display; resolves with it (":N") and a stop() that ends it. */
async function startXvfb() {
  // -displayfd: the server picks a free display and writes its number to that descriptor.
  const args = ["-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp"];
  const child = spawn(XVFB_PATH, args, { stdio: ["ignore", "ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => void (stderr = (stderr + d).slice(-2000)));
  const display = await new Promise((resolve, reject) => {
    let out = "";
    child.stdio[3].on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(`:${out.trim()}`);
    });
    child.once("exit", (code) => reject(new Error(`Xvfb exited (${code}): ${stderr}`)));
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    display,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

/**
 * Opens `url` in a fresh MiniBrowser (private mode) on its own Xvfb display. `close()` ends
 * both; `exited` resolves with the exit code if MiniBrowser ends first.
 */
export async function openInWebKit(url) {
  const xvfb = await startXvfb();
  // WebKitGTK takes navigator.language from the environment's locale: under LANG=C (CI) it is
  // "C", which Intl refuses (uPlot, in the playground, then fails to load). Users' browsers
  // always have a real language.
  const child = spawn(MINIBROWSER_PATH, ["--private", url], {
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      ...process.env,
      DISPLAY: xvfb.display,
      LANG: "en_US.UTF-8",
      LC_ALL: "en_US.UTF-8",
      JSC_useSharedArrayBuffer: "true",
    },
  });
  return browserProcess(child, () => xvfb.stop());
}

/**
 * Opens `url` in a fresh MiniBrowser and resolves with `result` (what the page reports, e.g. by
 * POST to its server), unless the browser exits first or `timeoutMs` pass; it is closed either
 * way.
 */
export async function resultFromWebKit(url, result, timeoutMs) {
  return await resultFromProcess("MiniBrowser", await openInWebKit(url), result, timeoutMs);
}

/** WebKitGTK's version ("2.50.6"), from MiniBrowser's `--version` (it needs a display). */
export async function webkitVersion() {
  const xvfb = await startXvfb();
  try {
    const child = spawn(MINIBROWSER_PATH, ["--version"], {
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, DISPLAY: xvfb.display },
    });
    let out = "";
    child.stdout.on("data", (d) => void (out += d));
    await new Promise((resolve) => child.once("exit", resolve));
    return /([\d.]+)\s*$/.exec(out.trim())?.[1] ?? "?";
  } finally {
    await xvfb.stop();
  }
}
