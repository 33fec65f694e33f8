/**
 * Cancellation of long work (a sampling run, a fit) by an AbortSignal: the check on the option,
 * the rejection, and the yield that lets an abort scheduled by a timer or an event, or a page's
 * repaint, happen during work that never waits on anything.
 *
 * @module
 */
import { show } from "./_validate.ts";

/** Throws unless `value` is undefined or an AbortSignal-like object (`aborted`, `reason`). */
export function checkSignal(
  name: string,
  value: unknown,
): asserts value is AbortSignal | undefined {
  if (value === undefined) return;
  if (
    value === null || typeof value !== "object" ||
    typeof (value as { aborted?: unknown }).aborted !== "boolean"
  ) {
    throw new TypeError(`Expected "${name}" to be an AbortSignal but found ${show(value)}`);
  }
}

/**
 * Throws the signal's reason once it is aborted: a DOMException named "AbortError" after a plain
 * `controller.abort()`, whatever the caller passed to `abort(reason)` otherwise (as `fetch` does).
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw signal.reason ?? new DOMException("The operation was aborted", "AbortError");
  }
}

/** How long work may keep the event loop before it lets timers, events and rendering run (ms). */
const YIELD_EVERY_MS = 10;

/**
 * One turn of the event loop. On a web page's own thread a message through a MessageChannel (one
 * kept for the page, see pageTurn): a task of its own, after which input, expired timers and
 * rendering get their turn, as React's scheduler relies on (Chromium, a 200k × 28 fit on the
 * page's thread: clicks answered within 1–30 ms, 82–104 frames in a 1.5–2.3 s fit, zero-delay
 * timers ticking, for 0–6% of a one-thread fit's time). Not `scheduler.yield()` there: its work
 * resumes ahead of every other task, so in the same fit timers waited for the fit's end and
 * frames came every 110–190 ms.
 * Elsewhere `scheduler.yield()` where the host has it (Chromium's workers), else `setImmediate`
 * (Deno, Node), else a message (Firefox's and Safari's workers), else a zero-delay timer. Not the
 * timer first: hosts clamp a chain of zero-delay timers to 4 ms (2.9 ms a turn in Deno and 3.8
 * ms in Node measured here, against 0.03–0.05 ms for setImmediate), which would cost watched
 * work up to 30% of its time. Not a message in Deno: its event loop kept serving the messages and
 * starved the timers (a 1 ms interval never ticked during a fit). Off a page each turn's channel
 * is fresh and both its ports are closed on arrival, so no port keeps a process alive.
 */
function nextTurn(page: boolean): Promise<void> {
  const host = globalThis as {
    scheduler?: { yield?: () => Promise<void> };
    setImmediate?: (callback: () => void) => unknown;
  };
  if (page && realPage()) return pageTurn();
  if (!page && typeof host.scheduler?.yield === "function") return host.scheduler.yield();
  if (!page && typeof host.setImmediate === "function") {
    const setImmediate = host.setImmediate;
    return new Promise<void>((resolve) => void setImmediate(resolve));
  }
  if (typeof MessageChannel === "function") {
    return new Promise<void>((resolve) => {
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = () => {
        port1.close();
        port2.close();
        resolve();
      };
      port2.postMessage(null);
    });
  }
  return new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/** The page's channel for its turns (see pageTurn), made at the first. */
let turns: { port: MessagePort; waiting: (() => void)[] } | null = null;

/**
 * A turn of a browser page's event loop through one MessageChannel kept for the page's life
 * (nothing there for an open port to keep alive, unlike a page emulated in Node or Deno, as
 * jsdom does): its messages arrive in order, each resolving the oldest turn still waiting.
 * Making a fresh channel for each turn cost the turn itself 0.28–0.71 ms (mean, Chromium, with 0
 * and 10 ms of work between turns) against 0.013–0.03 ms for the kept channel: a fit takes a
 * turn every 10 ms.
 */
function pageTurn(): Promise<void> {
  if (turns === null) {
    const { port1, port2 } = new MessageChannel();
    const waiting: (() => void)[] = [];
    port1.onmessage = () => waiting.shift()?.();
    turns = { port: port2, waiting };
  }
  const { port, waiting } = turns;
  return new Promise<void>((resolve) => {
    waiting.push(resolve);
    port.postMessage(null);
  });
}

/** A turn of the page's channel posted as a marker (see pageTurnIfDue), and when it was. */
let marker: { at: number; arrived: boolean; turn: Promise<void> } | null = null;

/**
 * On a web page's own thread, where calls that end without waiting on a task (a split call
 * whose workers were done when the page's own lane was: WasmRuntime.runSharing) have held the
 * thread for YIELD_EVERY_MS since the page last had a turn, a turn of its event loop to await;
 * otherwise (elsewhere, or not due) undefined, at once. It posts a marker on the page's kept
 * channel (see pageTurn) and counts the page as having had a turn once the marker arrives,
 * which any task boundary delivers: calls that already wait on a worker's message or
 * `Atomics.waitAsync` never add a turn. Without it, a loop of `await` calls run on the page's
 * thread drew no frame for its whole length (Chromium, Firefox 153, WebKitGTK 2.50, 150 calls
 * each, 2026-12-06): SDPA N = 512 on one thread 0 frames in 1.9–3.2 s, now 25–40 a second
 * (Firefox 12–21); matmul 512³ into fresh arrays on two threads of an isolated page (the page's
 * thread taking a lane) 0–10 a second, now 54–56 (WebKit 47–48, Firefox 24–33); calls left to
 * the workers drew 60 either way.
 */
export function pageTurnIfDue(): Promise<void> | undefined {
  if (!realPage()) return undefined;
  const now = performance.now();
  if (marker === null || marker.arrived) {
    const next = { at: now, arrived: false, turn: pageTurn() };
    next.turn.then(() => void (next.arrived = true));
    marker = next;
    return undefined;
  }
  return now - marker.at >= YIELD_EVERY_MS ? marker.turn : undefined;
}

/** A browser page's own thread with MessageChannel (not a page emulated in Node or Deno). */
function realPage(): boolean {
  const host = globalThis as object;
  return onPage() && typeof MessageChannel === "function" && !("process" in host || "Deno" in host);
}

/**
 * Whether this is a web page's own thread (a `document`, which workers and servers lack): work
 * there holds the page's clicks, timers and rendering until it gives the event loop a turn.
 */
function onPage(): boolean {
  return typeof (globalThis as { document?: unknown }).document !== "undefined";
}

/**
 * Watches a signal between steps of long work (denoiser calls, boosting rounds). Work whose
 * awaits all resolve at once never gives the event loop a turn (awaiting a value only runs
 * microtasks), so an abort from a timer or a click could not arrive, and a page could not
 * repaint or answer a click, until the work ended; every {@link YIELD_EVERY_MS} ms of work the
 * watcher waits one turn of the event loop. It does so where someone watches (a signal, or
 * `watched` for progress callbacks) and always on a page's own thread, and it never changes
 * what the work computes.
 */
export class AbortWatch {
  #last: number;
  readonly #watched: boolean;
  readonly #page = onPage();

  /**
   * `since`: when the work began holding the thread (performance.now()), where that was before
   * the watch was made (a fit's input checks), so that its first check gives a turn if due.
   */
  constructor(
    readonly signal: AbortSignal | undefined,
    watched = false,
    since = performance.now(),
  ) {
    this.#watched = watched || signal !== undefined || this.#page;
    this.#last = since;
  }

  /** Throws if aborted; first gives pending timers, events and rendering a turn when one is due. */
  async check(): Promise<void> {
    if (!this.#watched) return;
    throwIfAborted(this.signal);
    const now = performance.now();
    if (now - this.#last < YIELD_EVERY_MS) return;
    await nextTurn(this.#page);
    this.#last = performance.now();
    throwIfAborted(this.signal);
  }
}
