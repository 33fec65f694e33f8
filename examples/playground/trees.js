/**
 * The Trees panel: a bundled data set or an uploaded CSV, an estimator and its main options, a
 * fit with a live progress bar, per-round evaluation (XGBoost) and Cancel; then test scores, a
 * confusion matrix or a predicted-vs-true plot, feature importances, the model as JSON; a
 * waterfall of one test row's SHAP contributions; and predictions from a model trained by
 * XGBoost itself (explained the same way).
 *
 * @module
 */
import { contributionsOf, explainedOutput, waterfallSteps, waterfallSvg } from "./lib/explain.js";
import { accuracy, confusionMatrix, maxAbsDifference, regressionScores } from "./lib/metrics.js";
import { lineChart, shortNumber } from "./lib/plot.js";
import { guessTask, parseCsv, toColumns, toDataSet, trainTestSplit } from "./lib/table.js";

const $ = (id) => document.getElementById(id);

/** Estimators by key: class names (classifier, regressor) and main options. */
const ESTIMATORS = {
  xgb: {
    classes: ["XGBClassifier", "XGBRegressor"],
    evalSet: true,
    options: [
      { name: "nEstimators", label: "rounds", kind: "int", value: 100, min: 1 },
      { name: "maxDepth", label: "max depth", kind: "int", value: 4, min: 0 },
      { name: "learningRate", label: "learning rate η", kind: "number", value: 0.1, min: 0 },
      { name: "subsample", label: "subsample", kind: "number", value: 1, min: 0 },
      { name: "colsampleBytree", label: "colsample by tree", kind: "number", value: 1, min: 0 },
      { name: "regLambda", label: "λ (L2)", kind: "number", value: 1, min: 0 },
    ],
  },
  rf: {
    classes: ["RandomForestClassifier", "RandomForestRegressor"],
    options: [
      { name: "nEstimators", label: "trees", kind: "int", value: 100, min: 1 },
      { name: "maxDepth", label: "max depth (empty: none)", kind: "int?", value: "", min: 1 },
      {
        name: "maxFeatures",
        label: "features per split",
        kind: "choice",
        value: "",
        choices: [["", "default (sqrt / all)"], ["sqrt", "sqrt"], ["log2", "log2"], ["1", "all"]],
      },
    ],
  },
  gb: {
    classes: ["GradientBoostingClassifier", "GradientBoostingRegressor"],
    options: [
      { name: "nEstimators", label: "stages", kind: "int", value: 100, min: 1 },
      { name: "learningRate", label: "learning rate", kind: "number", value: 0.1, min: 0 },
      { name: "maxDepth", label: "max depth", kind: "int", value: 3, min: 1 },
      { name: "subsample", label: "subsample", kind: "number", value: 1, min: 0 },
    ],
  },
  ada: {
    classes: ["AdaBoostClassifier", "AdaBoostRegressor"],
    options: [
      { name: "nEstimators", label: "rounds", kind: "int", value: 50, min: 1 },
      { name: "learningRate", label: "learning rate", kind: "number", value: 1, min: 0 },
    ],
  },
  dt: {
    classes: ["DecisionTreeClassifier", "DecisionTreeRegressor"],
    noProgress: true,
    options: [
      { name: "maxDepth", label: "max depth (empty: none)", kind: "int?", value: "", min: 1 },
      { name: "minSamplesLeaf", label: "min samples per leaf", kind: "int", value: 1, min: 1 },
    ],
  },
};

/** A matrix of rows as a Tensor. */
function toTensor(rows) {
  const cols = rows.length ? rows[0].length : 0;
  const data = new Float32Array(rows.length * cols);
  rows.forEach((row, i) => data.set(row, i * cols));
  return { data, shape: [rows.length, cols] };
}

function downloadText(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function metric(label, value) {
  const span = document.createElement("span");
  span.innerHTML = `<span class="small"></span> <b></b>`;
  span.children[0].textContent = label;
  span.children[1].textContent = value;
  return span;
}

/** Shaded counts, rows = true class, columns = predicted class. */
function renderConfusion(container, counts, names) {
  const peak = Math.max(1, ...counts.flat());
  const table = document.createElement("table");
  table.className = "confusion";
  const head = `<tr><th>true \\ predicted</th>${names.map(() => `<th></th>`).join("")}</tr>`;
  table.innerHTML = `<caption>Confusion matrix (test rows)</caption>${head}` +
    counts.map((row) => `<tr><th></th>${row.map(() => "<td></td>").join("")}</tr>`).join("");
  const heads = table.querySelectorAll("tr:first-child th");
  names.forEach((n, j) => (heads[j + 1].textContent = n));
  table.querySelectorAll("tr:not(:first-child)").forEach((tr, i) => {
    tr.children[0].textContent = names[i];
    counts[i].forEach((c, j) => {
      const td = tr.children[j + 1];
      td.textContent = String(c);
      const alpha = c / peak;
      td.style.background = i === j
        ? `rgba(22,163,74,${alpha * 0.6})`
        : `rgba(220,38,38,${alpha * 0.6})`;
    });
  });
  container.replaceChildren(table);
}

function renderImportances(container, importances, names) {
  const order = [...importances.keys()].sort((a, b) => importances[b] - importances[a]).slice(
    0,
    15,
  );
  const peak = Math.max(...order.map((j) => importances[j]), 1e-12);
  container.replaceChildren(...order.flatMap((j) => {
    const name = Object.assign(document.createElement("span"), {
      textContent: names[j],
      title: names[j],
    });
    const bar = document.createElement("span");
    const fill = document.createElement("i");
    fill.style.width = `${(100 * importances[j]) / peak}%`;
    bar.title = importances[j].toFixed(4);
    bar.append(fill);
    return [name, bar];
  }));
  container.dataset.count = String(order.length);
}

/**
 * The raw output that a model's contributions add up to: the margin of XGBoost models, the
 * decision function of gradient boosting classifiers, class probabilities of tree and forest
 * classifiers, the prediction of regressors; always [n, K].
 */
async function rawOutput(model, X) {
  if (typeof model.predictMargin === "function") return await model.predictMargin(X);
  if (typeof model.decisionFunction === "function") {
    const d = await model.decisionFunction(X);
    return d.shape ? d : { data: d, shape: [d.length, 1] };
  }
  if (typeof model.predictProba === "function") return await model.predictProba(X);
  const p = await model.predict(X);
  return { data: p, shape: [p.length, 1] };
}

/** What the raw output of class output `k` (of `outputs`) is called, for the waterfall. */
function outputName(model, k, outputs, className) {
  const classifier = Array.isArray(className) || typeof model.predictProba === "function";
  const name = (j) => className?.[j] ?? `class ${j}`;
  if (typeof model.predictMargin === "function") {
    if (!classifier) return "margin";
    return outputs === 1 ? `margin (log-odds of ${name(1)})` : `margin of ${name(k)}`;
  }
  if (typeof model.decisionFunction === "function") {
    return outputs === 1 ? `log-odds of ${name(1)}` : `decision function of ${name(k)}`;
  }
  return classifier ? `P(${name(k)})` : "prediction";
}

export async function mountTrees({ tessera, bundleUrl, exclusive, setState }) {
  const sets = await (await fetch("out/data/index.json")).json();
  /** Columns of the loaded table and where they came from. */
  let table = null;
  let fitted = null;
  /** The running fit's cancel function. */
  let cancelFit = null;
  let worker = null;
  /**
   * What the waterfall explains: the latest model (a fit, or a loaded XGBoost model) with its
   * test rows { model, X, names, classNames, y, reference, source }.
   */
  let explained = null;

  // Whether this build of Tessera partitions categories natively (XGBoost's
  // enable_categorical); otherwise category codes are used as ordered numbers.
  const nativeCategories = await new tessera.XGBClassifier({
    categoricalFeatures: [0],
    nEstimators: 1,
  })
    .fit([[0], [1], [0], [1]], [0, 1, 0, 1])
    .then(() => true, () => false);

  $("trees-data").replaceChildren(...sets.map((s) => new Option(s.title, s.name)));
  $("trees-task").replaceChildren(
    new Option("classification", "classification"),
    new Option("regression", "regression"),
  );

  function renderOptions() {
    const spec = ESTIMATORS[$("trees-estimator").value];
    $("trees-options").replaceChildren(...spec.options.map((o) => {
      const label = document.createElement("label");
      label.textContent = `${o.label} `;
      let input;
      if (o.kind === "choice") {
        input = document.createElement("select");
        input.append(...o.choices.map(([v, t]) => new Option(t, v)));
      } else {
        input = document.createElement("input");
        input.type = "number";
        input.step = o.kind === "number" ? "any" : "1";
        input.min = String(o.min);
      }
      input.value = String(o.value);
      input.dataset.option = o.name;
      input.dataset.kind = o.kind;
      label.append(input);
      return label;
    }));
  }

  function readOptions() {
    const options = { seed: 0 };
    for (const input of $("trees-options").querySelectorAll("[data-option]")) {
      const { option, kind } = input.dataset;
      if (input.value === "") continue;
      options[option] = kind === "choice"
        ? (Number.isNaN(Number(input.value)) ? input.value : Number(input.value))
        : Number(input.value);
    }
    return options;
  }

  function describe() {
    if (!table) return;
    const target = $("trees-target").value;
    const ds = toDataSet(table.columns, target, $("trees-task").value);
    const cats = ds.categorical.map((j) => ds.featureNames[j]);
    $("trees-summary").textContent =
      `${table.source}: ${ds.X.length} rows, ${ds.featureNames.length} features` +
      (cats.length
        ? ` (categorical: ${cats.join(", ")}, ${
          nativeCategories && $("trees-estimator").value === "xgb"
            ? "split by category"
            : "as category codes"
        })`
        : "") +
      (ds.classNames
        ? `; ${ds.classNames.length} classes: ${ds.classNames.slice(0, 8).join(", ")}` +
          (ds.classNames.length > 8 ? ", …" : "")
        : "; regression") +
      (ds.dropped ? `; ${ds.dropped} rows without a target dropped` : "");
  }

  function useTable(text, source, target) {
    const columns = toColumns(parseCsv(text));
    table = { columns, source };
    $("trees-target").replaceChildren(
      ...columns.map((c) => new Option(`${c.name} (${c.kind})`, c.name)),
    );
    $("trees-target").value = target ?? columns[columns.length - 1].name;
    $("trees-task").value = guessTask(columns.find((c) => c.name === $("trees-target").value));
    describe();
  }

  async function loadBundled(name) {
    const entry = sets.find((s) => s.name === name);
    const text = await (await fetch(`out/data/${entry.file}`)).text();
    useTable(text, entry.title, entry.target);
  }

  function estimatorFor(ds) {
    const key = $("trees-estimator").value;
    const spec = ESTIMATORS[key];
    const className = spec.classes[ds.task === "classification" ? 0 : 1];
    const options = readOptions();
    if (key === "xgb" && nativeCategories && ds.categorical.length) {
      options.categoricalFeatures = ds.categorical;
    }
    return { options, spec, className };
  }

  /**
   * Fits in fit_worker.js and resolves with the fitted estimator rebuilt from its JSON, or
   * null when cancelled (the worker is then terminated and a fresh one starts next time).
   */
  function fitInWorker(request, onProgress) {
    const isolated = self.crossOriginIsolated ? "" : "?isolated=0";
    worker ??= new Worker(new URL(`fit_worker.js${isolated}`, location.href), { type: "module" });
    const running = worker;
    return new Promise((resolve, reject) => {
      cancelFit = () => {
        running.terminate();
        if (worker === running) worker = null;
        resolve(null);
      };
      running.onmessage = ({ data }) => {
        if (data.type === "progress") onProgress(data);
        else if (data.type === "done") {
          resolve({
            model: tessera[request.className].fromJSON(data.model),
            seconds: data.seconds,
          });
        } else reject(Object.assign(new Error(data.message), { name: data.name }));
      };
      running.onerror = (event) =>
        reject(new Error(event.message || "The fit worker failed to start"));
      const transfer = [request.X.buffer, request.y.buffer];
      running.postMessage(request, transfer);
    }).finally(() => (cancelFit = null));
  }

  async function fit() {
    const ds = toDataSet(table.columns, $("trees-target").value, $("trees-task").value);
    const { train, test } = trainTestSplit(ds.X.length, 0.2, 0);
    const Xtrain = toTensor(train.map((i) => ds.X[i])), ytrain = train.map((i) => ds.y[i]);
    const Xtest = toTensor(test.map((i) => ds.X[i])),
      ytest = Float64Array.from(test, (i) => ds.y[i]);
    const { options, spec, className } = estimatorFor(ds);
    // Cancel terminates the fit's worker, so it works for every estimator.
    $("trees-cancel").disabled = false;
    $("trees-fit").disabled = true;
    $("trees-download").disabled = true;
    $("trees-download-xgb").hidden = true;
    fitted = null;
    $("trees-metrics").replaceChildren();
    $("trees-result").replaceChildren();
    $("trees-importances").replaceChildren();
    $("trees-curve").replaceChildren();
    delete $("trees-curve").dataset.plotted;
    clearExplanation();
    const progress = $("trees-progress");
    progress.value = 0;
    progress.max = 1;
    setState("trees", "running", className);
    const t0 = performance.now();
    const curve = { rounds: [], metrics: null, chart: null, frame: 0 };
    const onProgress = (p) => {
      progress.max = p.total;
      progress.value = p.iteration;
      $("trees-progress-text").textContent = `${p.iteration} / ${p.total} · ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s`;
      if (p.metrics) {
        curve.metrics ??= Object.fromEntries(Object.keys(p.metrics).map((k) => [k, []]));
        curve.rounds.push(p.iteration);
        for (const k in p.metrics) curve.metrics[k].push(p.metrics[k]);
        curve.frame ||= requestAnimationFrame(() => {
          curve.frame = 0;
          const data = [curve.rounds, ...Object.values(curve.metrics)];
          if (!curve.chart) {
            curve.chart = lineChart($("trees-curve"), {
              title: "Test-set metric per round",
              x: "round",
              y: Object.keys(curve.metrics).join(", "),
              series: Object.keys(curve.metrics).map((k) => ({ label: k, points: false })),
              data,
            });
          } else curve.chart.setData(data);
        });
      }
    };
    const request = {
      bundleUrl,
      className,
      options,
      X: Xtrain.data,
      shape: Xtrain.shape,
      y: Float64Array.from(ytrain),
      noProgress: spec.noProgress === true,
      evalSet: spec.evalSet
        ? { X: Xtest.data.slice(), shape: Xtest.shape, y: Array.from(ytest) }
        : undefined,
    };
    if (!spec.evalSet) {
      $("trees-curve").innerHTML =
        `<p class="small">A per-round test-set curve comes with XGBoost, whose fit
        evaluates the held-out rows after every round; this estimator reports its progress only.</p>`;
    }
    let result;
    try {
      result = await exclusive(() => fitInWorker(request, onProgress));
    } finally {
      $("trees-cancel").disabled = true;
      $("trees-fit").disabled = false;
    }
    if (result === null) {
      setState("trees", "cancelled", `after ${progress.value} of ${progress.max} rounds`);
      $("trees-progress-text").textContent += " · cancelled";
      return { cancelled: true };
    }
    const { model: estimator, seconds } = result;
    if (spec.noProgress) progress.value = progress.max;
    fitted = { estimator, className, ds };
    const predicted = await estimator.predict(Xtest);
    const metrics = $("trees-metrics");
    metrics.append(
      metric("fit", `${seconds.toFixed(2)} s`),
      metric("train / test rows", `${train.length} / ${test.length}`),
    );
    if (ds.task === "classification") {
      const acc = accuracy(ytest, predicted);
      metrics.append(metric("test accuracy", acc.toFixed(3)));
      metrics.dataset.accuracy = String(acc);
      renderConfusion(
        $("trees-result"),
        confusionMatrix(ytest, predicted, ds.classNames.length),
        ds.classNames,
      );
    } else {
      const s = regressionScores(ytest, predicted);
      metrics.append(
        metric("test RMSE", shortNumber(s.rmse)),
        metric("MAE", shortNumber(s.mae)),
        metric("R²", s.r2.toFixed(3)),
      );
      metrics.dataset.rmse = String(s.rmse);
      const order = [...ytest.keys()].sort((a, b) => ytest[a] - ytest[b]);
      const x = order.map((i) => ytest[i]);
      lineChart($("trees-result"), {
        title: "Predicted against true (test rows)",
        x: "true",
        y: "predicted",
        series: [
          { label: "predicted", line: false },
          { label: "y = x", points: false, color: "#9ca3af", dash: [4, 4] },
        ],
        data: [x, order.map((i) => predicted[i]), x],
      });
    }
    renderImportances($("trees-importances"), estimator.featureImportances, ds.featureNames);
    await explainModel({
      model: estimator,
      X: Xtest,
      names: ds.featureNames,
      classNames: ds.classNames ?? null,
      y: ytest,
      reference: null,
      source: `${className} fitted above`,
    });
    $("trees-download").disabled = false;
    // XGBoost's own format, where this build of Tessera writes it (XGB* models).
    $("trees-download-xgb").hidden = typeof estimator.toXGBoostJSON !== "function";
    setState("trees", "done", `${className}, ${seconds.toFixed(1)} s`);
    return { cancelled: false };
  }

  /** Explains `subject`'s test rows from now on, starting with the chosen row. */
  async function explainModel(subject) {
    explained = subject;
    $("trees-explain-row").max = String(subject.X.shape[0] - 1);
    await renderExplanation();
  }

  function clearExplanation(note = "") {
    explained = null;
    const box = $("trees-waterfall");
    box.replaceChildren();
    for (const key of Object.keys(box.dataset)) delete box.dataset[key];
    $("trees-explain-note").textContent = note;
    $("trees-explain-check").textContent = "";
  }

  /**
   * Draws the chosen test row's waterfall and checks in the page that its contributions add up
   * to the model's raw output (and, for the XGBoost example, that σ(Σφ) is XGBoost's own
   * probability).
   */
  async function renderExplanation() {
    if (!explained) return;
    const { model, X, names, classNames, y, reference, source } = explained;
    const box = $("trees-waterfall");
    if (typeof model.predictContributions !== "function") {
      const kept = explained;
      clearExplanation(
        `${source}: no TreeSHAP for this estimator (AdaBoost weighs whole ` +
          `estimators' votes, which path-dependent TreeSHAP does not cover).`,
      );
      explained = kept;
      return;
    }
    const n = X.shape[0], F = X.shape[1];
    const input = $("trees-explain-row");
    const asked = Number(input.value);
    const row = Number.isInteger(asked) ? Math.min(n - 1, Math.max(0, asked)) : 0;
    input.value = String(row);
    const x = { data: X.data.slice(row * F, (row + 1) * F), shape: [1, F] };
    const [phi, raw] = await Promise.all([model.predictContributions(x), rawOutput(model, x)]);
    if (explained?.model !== model) return; // another model arrived meanwhile
    const outputs = raw.shape.length > 1 ? raw.shape[1] : 1;
    const k = explainedOutput(raw, 0);
    const classes = typeof model.predictProba === "function" ? model.classes : null;
    const className = (j) => classNames?.[classes ? classes[j] : j] ?? String(j);
    const label = outputName(
      model,
      k,
      outputs,
      classNames && Array.from(
        { length: Math.max(outputs, 2) },
        (_, j) => className(j),
      ),
    );
    const output = raw.data[k];
    const w = waterfallSteps(contributionsOf(phi, 0, k), names, {
      top: 10,
      output,
      outputLabel: label,
      values: x.data,
    });
    // Drawn at the container's size, so that its text stays legible on a phone.
    const width = Math.max(320, Math.min(760, box.clientWidth || 640));
    box.innerHTML = waterfallSvg(w.steps, {
      width,
      label: Math.round(width * (width < 500 ? 0.42 : 0.36)),
    });
    const ok = w.difference <= w.tolerance;
    Object.assign(box.dataset, {
      row: String(row),
      shape: phi.shape.join("x"),
      steps: String(w.steps.length),
      sum: String(w.sum),
      output: String(output),
      difference: String(w.difference),
      tolerance: String(w.tolerance),
      ok: String(ok),
    });
    let predicted = "";
    if (classes || classNames) {
      const j = outputs === 1 ? (output > 0 ? 1 : 0) : k;
      predicted = `; predicted ${className(j)}` +
        (y ? `, true ${classNames?.[y[row]] ?? y[row]}` : "");
    } else if (y) predicted = `; true value ${shortNumber(y[row])}`;
    $("trees-explain-note").textContent = `${source}, test row ${row} of ${n}${predicted}.`;
    let check = `Σ contributions ${w.sum.toPrecision(7)} against the model's ${label} ` +
      `${output.toPrecision(7)}: |difference| ${w.difference.toExponential(1)} ` +
      `${ok ? "≤" : ">"} tolerance ${w.tolerance.toExponential(1)} ${ok ? "✓" : "✗"}`;
    if (reference && outputs === 1) {
      const p = 1 / (1 + Math.exp(-w.sum));
      const d = Math.abs(p - reference[row]);
      box.dataset.referenceDifference = String(d);
      check += `; σ(Σφ) = ${p.toFixed(6)}, XGBoost's own probability ${
        reference[row].toFixed(6)
      } (|Δ| ${d.toExponential(1)})`;
    } else delete box.dataset.referenceDifference;
    $("trees-explain-check").textContent = check + ".";
    $("trees-explain-check").className = ok ? "small" : "small fail";
  }

  /**
   * Predicts with a model trained by XGBoost: a save_model file (JSON text, or UBJSON bytes) or
   * the example's wrapper, which also holds rows, labels and XGBoost's own predictions.
   */
  async function predictXGBoost(content, source, exampleNames = null) {
    const out = $("trees-xgb-result");
    // UBJSON bytes (.ubj) go to fromXGBoostJSON as they are, where the library reads them.
    const json = typeof content === "string" ? JSON.parse(content) : null;
    const wrapper = json?.model && json.learner === undefined ? json : null;
    const model = tessera.fromXGBoostJSON(wrapper ? wrapper.model : json ?? content);
    const kind = model instanceof tessera.XGBClassifier ? "classifier" : "regressor";
    out.replaceChildren(metric("model", `${source}: XGBoost ${kind}, ${model.nFeatures} features`));
    let X, y = null, reference = null, names = null;
    if (wrapper?.X) {
      X = toTensor(wrapper.X.map((r) => r.map((v) => (v === null ? NaN : v))));
      y = wrapper.y ? Float64Array.from(wrapper.y) : null;
      reference = wrapper.prediction ?? null;
      names = exampleNames;
    } else if (table) {
      const ds = toDataSet(table.columns, $("trees-target").value, $("trees-task").value);
      if (ds.featureNames.length !== model.nFeatures) {
        out.append(
          metric(
            "cannot predict",
            `the model takes ${model.nFeatures} features, the data has ${ds.featureNames.length}`,
          ),
        );
        return;
      }
      const { test } = trainTestSplit(ds.X.length, 0.2, 0);
      X = toTensor(test.map((i) => ds.X[i]));
      y = Float64Array.from(test, (i) => ds.y[i]);
      names = ds.featureNames;
    } else return;
    const n = X.shape[0];
    const t0 = performance.now();
    let output;
    if (kind === "classifier") {
      const proba = await model.predictProba(X);
      const k = proba.shape[1];
      output = reference && reference.length === n && k === 2
        ? Float32Array.from({ length: n }, (_, i) => proba.data[i * k + 1])
        : proba.data;
    } else output = await model.predict(X);
    const ms = performance.now() - t0;
    out.append(metric("rows", String(n)), metric("predict", `${ms.toFixed(1)} ms`));
    if (reference) {
      const diff = maxAbsDifference(output, reference);
      out.append(metric("max |Tessera − XGBoost|", diff.toExponential(2)));
      out.dataset.maxDifference = String(diff);
    }
    if (y) {
      if (kind === "classifier") {
        const acc = accuracy(y, await model.predict(X));
        out.append(metric("accuracy", acc.toFixed(3)));
        out.dataset.accuracy = String(acc);
      } else out.append(metric("RMSE", shortNumber(regressionScores(y, output).rmse)));
    }
    const saved = json?.learner?.feature_names ??
      (wrapper ? wrapper.model.learner?.feature_names : null);
    await explainModel({
      model,
      X,
      names: saved?.length === model.nFeatures
        ? saved
        : names?.length === model.nFeatures
        ? names
        : Array.from({ length: model.nFeatures }, (_, j) => `f${j}`),
      classNames: kind === "classifier"
        ? (wrapper?.classes ?? Array.from(model.classes, (c) => String(c)))
        : null,
      y,
      reference,
      source: `XGBoost model (${source})`,
    });
  }

  /** The example's column names: it was trained on the bundled breast cancer data's columns. */
  async function loadExample() {
    const csv = await (await fetch("out/data/breast_cancer.csv")).text();
    const names = parseCsv(csv).header.slice(0, -1);
    return predictXGBoost(
      await (await fetch("xgboost_breast_cancer.json")).text(),
      "example",
      names,
    );
  }

  /** Runs an action, showing its error in the panel's state, and rethrows. */
  async function attempt(action) {
    try {
      return await action();
    } catch (error) {
      console.error(error);
      setState("trees", "error", error.message);
      throw error;
    }
  }
  /** Runs a UI action: the panel's state shows its error, nothing is left unhandled. */
  const ui = (action) => attempt(action).catch(() => {});

  // Wiring.
  renderOptions();
  $("trees-estimator").addEventListener("change", () => {
    renderOptions();
    ui(describe);
  });
  $("trees-data").addEventListener("change", () => ui(() => loadBundled($("trees-data").value)));
  $("trees-target").addEventListener("change", () => {
    $("trees-task").value = guessTask(
      table.columns.find((c) => c.name === $("trees-target").value),
    );
    ui(describe);
  });
  $("trees-task").addEventListener("change", () => ui(describe));
  $("trees-file").addEventListener("change", () => {
    const file = $("trees-file").files[0];
    if (file) ui(async () => useTable(await file.text(), file.name));
  });
  $("trees-fit").addEventListener("click", () => ui(fit));
  $("trees-cancel").addEventListener("click", () => cancelFit?.());
  $("trees-explain-row").addEventListener("change", () => ui(renderExplanation));
  $("trees-download").addEventListener("click", () => {
    if (!fitted) return;
    downloadText(`${fitted.className}.json`, JSON.stringify(fitted.estimator.toJSON()));
  });
  $("trees-xgb-example").addEventListener(
    "click",
    () => ui(loadExample),
  );
  $("trees-xgb-file").addEventListener("change", () => {
    const file = $("trees-xgb-file").files[0];
    if (!file) return;
    ui(async () =>
      predictXGBoost(
        file.name.endsWith(".ubj") ? new Uint8Array(await file.arrayBuffer()) : await file.text(),
        file.name,
      )
    );
  });
  $("trees-download-xgb").addEventListener("click", () => {
    if (fitted?.estimator.toXGBoostJSON) {
      downloadText(`${fitted.className}.xgboost.json`, fitted.estimator.toXGBoostJSON());
    }
  });

  const first = sets.find((entry) => entry.name === "breast_cancer") ?? sets[0];
  await loadBundled(first.name);
  $("trees-data").value = first.name;
  return {
    name: "trees",
    async autorun() {
      const result = await attempt(fit);
      if (result.cancelled) throw new Error("The autorun fit was cancelled");
      await attempt(loadExample);
    },
  };
}
