/**
 * Fits one estimator off the page's main thread. The page posts
 * { bundleUrl, className, options, X, shape, y, evalSet?, noProgress }; the worker imports
 * the bundle (once), fits, posts { type: "progress", iteration, total, metrics } after each round
 * and { type: "done", model, seconds } or { type: "error", name, message } at the end.
 *
 * Why a worker of the page's own: a boosting fit on a small table runs its rounds back to back
 * in the calling thread, so on the main thread the progress bar would not repaint and a Cancel
 * click would wait for the end. Here the page stays live, and Cancel terminates this worker.
 *
 * @module
 */
let tessera = null;

self.onmessage = async ({ data }) => {
  try {
    tessera ??= await import(data.bundleUrl);
    const estimator = new tessera[data.className](data.options);
    const tensor = (X, shape) => ({ data: X, shape });
    const fitOptions = {
      onProgress: ({ iteration, total, metrics }) =>
        self.postMessage({ type: "progress", iteration, total, metrics }),
    };
    if (data.noProgress) delete fitOptions.onProgress;
    if (data.evalSet) {
      fitOptions.evalSet = [tensor(data.evalSet.X, data.evalSet.shape), data.evalSet.y];
    }
    const t0 = performance.now();
    await estimator.fit(tensor(data.X, data.shape), data.y, fitOptions);
    const seconds = (performance.now() - t0) / 1000;
    self.postMessage({ type: "done", model: estimator.toJSON(), seconds });
  } catch (error) {
    self.postMessage({
      type: "error",
      name: error?.name ?? "Error",
      message: String(error?.message ?? error),
    });
  }
};
