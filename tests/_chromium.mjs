// Headless Chromium (Debian's, driven by playwright-core) with the flags that work as root on
// these machines, in a fresh profile that close() removes. Shared by the browser, package and
// playground tests and the Chromium benchmark.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

/** The command-line flags: no sandbox (root), no GPU process, nothing fetched in the background. */
export const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

/** A persistent context on a temporary profile; `close()` ends it and removes the profile. */
export async function launchChromium(args = CHROMIUM_ARGS) {
  const userDataDir = await mkdtemp(join(tmpdir(), "tessera-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args,
  });
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
