/**
 * AbortWatch (src/_abort.ts), the yield inside watched fits and sampling runs: outside Chromium
 * it takes its turn of the event loop through setImmediate (Deno, Node) or a MessageChannel
 * (Firefox, Safari), never a zero-delay timer (hosts clamp chains of those to 4 ms); timers
 * still get their turns; and it leaves no port open behind it (Deno's resource sanitizer fails
 * the test otherwise).
 */
import assert from "node:assert/strict";
import { AbortWatch } from "../../src/_abort.ts";

/** Busy work for `ms` milliseconds: it never awaits, as a kernel call between checks does not. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* work */ }
}

/** Runs `fn` as in a host without scheduler.yield (and, if asked, without setImmediate). */
async function withoutYield(dropImmediate: boolean, fn: () => Promise<void>): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  const saved = ["scheduler", "setImmediate"].map((k) => [k, Object.getOwnPropertyDescriptor(g, k)] as const);
  Object.defineProperty(g, "scheduler", { value: undefined, configurable: true, writable: true });
  if (dropImmediate) Object.defineProperty(g, "setImmediate", { value: undefined, configurable: true, writable: true });
  try {
    await fn();
  } finally {
    for (const [k, d] of saved) {
      if (d) Object.defineProperty(g, k, d);
      else delete g[k];
    }
  }
}

for (const [host, dropImmediate] of [["Deno and Node (setImmediate)", false], ["Firefox and Safari (MessageChannel)", true]] as const) {
  Deno.test(`AbortWatch in ${host}: yields without a timer, timers still tick, no port left open`, async () => {
    await withoutYield(dropImmediate, async () => {
      const timer = globalThis.setTimeout;
      let timeouts = 0;
      globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
        timeouts++;
        return timer(...args);
      }) as typeof setTimeout;
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 1);
      try {
        const watch = new AbortWatch(undefined, true);
        for (let step = 0; step < 8; step++) {
          spin(11);
          await watch.check();
        }
      } finally {
        clearInterval(ticker);
        globalThis.setTimeout = timer;
      }
      assert.equal(timeouts, 0, "nextTurn used setTimeout");
      if (!dropImmediate) assert.ok(ticks >= 3, `a 1 ms interval ticked ${ticks} times over 8 turns`);
    });
  });
}

Deno.test("AbortWatch lets an abort from a timer arrive during work that never waits", async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 0);
  const watch = new AbortWatch(controller.signal);
  let steps = 0;
  await assert.rejects(async () => {
    for (; steps < 1000; steps++) {
      spin(2);
      await watch.check();
    }
  }, { name: "AbortError" });
  assert.ok(steps < 1000, "the abort never arrived");
});

Deno.test("AbortWatch does not yield for unwatched work", async () => {
  const watch = new AbortWatch(undefined);
  spin(12);
  // Unwatched: check() returns without a turn, so a microtask queued after it runs later.
  const order: string[] = [];
  const p = watch.check().then(() => order.push("check"));
  queueMicrotask(() => order.push("microtask"));
  await p;
  await Promise.resolve();
  assert.deepEqual(order, ["check", "microtask"]);
});

/** Runs `fn` as on a web page's own thread: with a `document` on globalThis. */
async function asOnPage(fn: () => Promise<void>): Promise<void> {
  const g = globalThis as Record<string, unknown>;
  assert.equal(g.document, undefined);
  g.document = {};
  try {
    await fn();
  } finally {
    delete g.document;
  }
}

Deno.test("AbortWatch on a page's thread yields for unwatched work too, by a message", async () => {
  await asOnPage(async () => {
    // scheduler.yield() would resume ahead of the page's timers and other tasks: not used there.
    let yielded = false;
    const g = globalThis as Record<string, unknown>;
    const saved = Object.getOwnPropertyDescriptor(g, "scheduler");
    g.scheduler = { yield: () => (yielded = true, Promise.resolve()) };
    try {
      const watch = new AbortWatch(undefined);
      spin(12);
      // A turn of the event loop: a message posted before check() arrives before it resolves.
      const order: string[] = [];
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = () => order.push("message");
      port2.postMessage(null);
      await watch.check().then(() => order.push("check"));
      port1.close();
      port2.close();
      assert.deepEqual(order, ["message", "check"]);
      assert.equal(yielded, false, "scheduler.yield() was used on a page");
    } finally {
      if (saved) Object.defineProperty(g, "scheduler", saved);
      else delete g.scheduler;
    }
  });
});
