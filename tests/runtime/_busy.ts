/**
 * A busy second core for the pool's stress tests: a worker that spins until stopped, so the
 * pool's workers and the caller fight for the CPU and get descheduled in the middle of a task
 * list, as they do on a loaded machine or a phone.
 */

const SPIN = `
self.onmessage = (event) => {
  const stop = new Int32Array(event.data);
  let x = 0;
  while (Atomics.load(stop, 0) === 0) x = (x * 1103515245 + 12345) | 0;
  self.postMessage(x);
};`;

/** Starts the spinner; `stop()` ends it and resolves once it has left its loop. */
export function startBusyCore(): { stop(): Promise<void> } {
  const url = URL.createObjectURL(new Blob([SPIN], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const flag = new SharedArrayBuffer(4);
  const left = new Promise<void>((resolve) => worker.onmessage = () => resolve());
  worker.postMessage(flag);
  return {
    async stop() {
      Atomics.store(new Int32Array(flag), 0, 1);
      await left;
      worker.terminate();
      URL.revokeObjectURL(url);
    },
  };
}
