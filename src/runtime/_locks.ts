/**
 * The Web Locks API where the host has it (browsers in a secure context, Deno), typed to the
 * little the pool uses: a lock a web worker holds for its whole life is released by the host
 * only once the worker's thread is gone.
 *
 * @module
 */

/** The part of `navigator.locks` the pool uses. */
export interface Locks {
  request<T>(name: string, callback: () => Promise<T> | T): Promise<T>;
}

/** `navigator.locks`, or null where the host has none (Node 20, insecure pages). */
export function locks(): Locks | null {
  const nav = (globalThis as { navigator?: { locks?: Locks } }).navigator;
  return typeof nav?.locks?.request === "function" ? nav.locks : null;
}
