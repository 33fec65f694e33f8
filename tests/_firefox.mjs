// Headless Firefox (Debian's firefox-esr) on a page that reports by itself: no driver. The
// playwright-core in use speaks WebDriver BiDi commands that Firefox ESR 140 lacks
// (`network.addDataCollector`), so Firefox is started as a user would start it, on a fresh
// profile, and the page POSTs what it has to tell to its own server. Shared by the Firefox tests
// and the Firefox run of the browser benchmark.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { browserProcess, resultFromProcess } from "./_browser_process.mjs";

/** Firefox's executable: FIREFOX_PATH, else Debian's firefox-esr. */
export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr";

/** Why Firefox cannot run here (it is not installed), or null where it can. */
export function firefoxMissing() {
  return existsSync(FIREFOX_PATH)
    ? null
    : `no Firefox at ${FIREFOX_PATH} (apt-get install firefox-esr, or set FIREFOX_PATH)`;
}

/** Preferences of the fresh profile: no first-run pages, no background traffic. */
const PREFS = {
  "browser.shell.checkDefaultBrowser": false,
  "browser.startup.homepage_override.mstone": "ignore",
  "browser.aboutwelcome.enabled": false,
  "datareporting.policy.dataSubmissionEnabled": false,
  "toolkit.telemetry.reportingpolicy.firstRun": false,
  "app.update.enabled": false,
  "browser.safebrowsing.malware.enabled": false,
  "browser.safebrowsing.phishing.enabled": false,
  "network.captive-portal-service.enabled": false,
};

/**
 * Opens `url` in headless Firefox on a temporary profile. `close()` ends Firefox and removes the
 * profile; `exited` resolves with the exit code if Firefox ends first.
 */
export async function openInFirefox(url) {
  const profile = await mkdtemp(join(tmpdir(), "tessera-firefox-"));
  await writeFile(
    join(profile, "user.js"),
    Object.entries(PREFS).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`).join("\n"),
  );
  const child = spawn(FIREFOX_PATH, ["--headless", "--no-remote", "--profile", profile, url], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: "1" },
  });
  return browserProcess(child, () => rm(profile, { recursive: true, force: true }));
}

/**
 * Opens `url` in a fresh Firefox and resolves with `result` (what the page reports, e.g. by
 * POST to its server), unless Firefox exits first or `timeoutMs` pass; Firefox is closed either
 * way.
 */
export async function resultFromFirefox(url, result, timeoutMs) {
  return await resultFromProcess("Firefox", await openInFirefox(url), result, timeoutMs);
}

/** Firefox's version ("140.12.0esr"), from `--version`. */
export async function firefoxVersion() {
  const child = spawn(FIREFOX_PATH, ["--version"], { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  child.stdout.on("data", (d) => void (out += d));
  await new Promise((resolve) => child.once("exit", resolve));
  return /([\d.]+\w*)\s*$/.exec(out.trim())?.[1] ?? "?";
}
