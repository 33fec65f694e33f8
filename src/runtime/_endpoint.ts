/**
 * Adapts Node's worker_threads ports to the Web-style endpoint comlink talks to.
 *
 * @module
 */
import type { Endpoint } from "comlink";

/** The part of Node's MessagePort / Worker that comlink needs. */
export interface NodePort {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  on(event: "message", listener: (data: unknown) => void): unknown;
  off(event: "message", listener: (data: unknown) => void): unknown;
  start?: () => void;
}

type Listener = EventListenerOrEventListenerObject;

/** Wraps a Node port so comlink sees `addEventListener("message", …)` with `{ data }` events. */
export function nodeEndpoint(port: NodePort): Endpoint {
  const wrapped = new WeakMap<Listener, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: Transferable[]) => port.postMessage(message, transfer),
    addEventListener: (_type: string, listener: Listener) => {
      const onData = (data: unknown) => {
        const event = { data } as MessageEvent;
        if (typeof listener === "function") listener(event);
        else listener.handleEvent(event);
      };
      port.on("message", onData);
      wrapped.set(listener, onData);
    },
    removeEventListener: (_type: string, listener: Listener) => {
      const onData = wrapped.get(listener);
      if (!onData) return;
      port.off("message", onData);
      wrapped.delete(listener);
    },
    start: port.start?.bind(port),
  };
}
