/**
 * Cancellation of a sampling run by an AbortSignal: the check on the option, the rejection, and
 * the yield that lets an abort scheduled by a timer or an event reach a run whose denoiser never
 * waits on anything.
 *
 * @module
 */
import { show } from "../_validate.ts";

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
    throw signal.reason ?? new DOMException("The sampling run was aborted", "AbortError");
  }
}

/** How long a run may keep the event loop before it lets timers and events run (ms). */
const YIELD_EVERY_MS = 10;

/**
 * Watches a signal between denoiser calls. A synchronous denoiser never gives the event loop a
 * turn (awaiting a value only runs microtasks), so an abort from a timer or a click could not
 * arrive until the run ended; every {@link YIELD_EVERY_MS} ms of work the watcher waits one
 * macrotask. Without a signal it does nothing, and it never changes what a run computes.
 */
export class AbortWatch {
  #last = performance.now();

  constructor(readonly signal: AbortSignal | undefined) {}

  /** Throws if aborted; first gives pending timers and events a turn when one is due. */
  async check(): Promise<void> {
    if (this.signal === undefined) return;
    throwIfAborted(this.signal);
    const now = performance.now();
    if (now - this.#last < YIELD_EVERY_MS) return;
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    this.#last = performance.now();
    throwIfAborted(this.signal);
  }
}
