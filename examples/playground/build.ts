/**
 * Prepares what the playground page loads besides the Tessera bundle, into
 * examples/playground/out/ (ignored by git; `npm start` runs this before serving):
 *
 * - `out/uplot.js`, `out/uplot.css`: the uPlot plotting library (an npm devDependency) bundled
 *   by esbuild into one ES module, so the page fetches nothing from the network at run time;
 * - `out/data/<name>.csv` and `out/data/index.json`: the real data sets the tree tests use
 *   (scikit-learn's iris, wine, breast cancer and diabetes; R mlbench's Vehicle and
 *   BostonHousing), as CSV files with a header and named classes, the form a user uploads.
 *
 * Usage: deno run -A examples/playground/build.ts   (or `await buildPlayground()` from build.ts)
 *
 * @module
 */
import * as esbuild from "esbuild";

const HERE = new URL("./", import.meta.url);
const ROOT = new URL("../../", import.meta.url);
const OUT = new URL("out/", HERE);

/** A data set as the page lists it: its CSV file, the column to predict and the task. */
export interface DataSetEntry {
  name: string;
  title: string;
  file: string;
  target: string;
  task: "classification" | "regression";
  rows: number;
  features: number;
  source: string;
}

// Column names and class names of scikit-learn's bundled sets (the fixture files keep only
// numbers): as sklearn.datasets.load_<name>() reports them.
const SKLEARN = {
  iris: {
    title: "Iris (150 × 4, 3 classes)",
    features: ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"],
    target: "species",
    classes: ["setosa", "versicolor", "virginica"],
  },
  wine: {
    title: "Wine (178 × 13, 3 classes)",
    features: [
      "alcohol",
      "malic_acid",
      "ash",
      "alcalinity_of_ash",
      "magnesium",
      "total_phenols",
      "flavanoids",
      "nonflavanoid_phenols",
      "proanthocyanins",
      "color_intensity",
      "hue",
      "od280/od315_of_diluted_wines",
      "proline",
    ],
    target: "cultivar",
    classes: ["class_0", "class_1", "class_2"],
  },
  breast_cancer: {
    title: "Breast cancer (569 × 30, 2 classes)",
    features: ["mean", "error", "worst"].flatMap((group) =>
      [
        "radius",
        "texture",
        "perimeter",
        "area",
        "smoothness",
        "compactness",
        "concavity",
        "concave points",
        "symmetry",
        "fractal dimension",
      ].map((f) => (group === "error" ? `${f} error` : `${group} ${f}`))
    ),
    target: "diagnosis",
    classes: ["malignant", "benign"],
  },
  diabetes: {
    title: "Diabetes (442 × 10, regression)",
    features: ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"],
    target: "progression",
    classes: null,
  },
} as const;

const csvCell = (v: string | number | null) => {
  if (v === null || (typeof v === "number" && Number.isNaN(v))) return "";
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
const csvLine = (cells: (string | number | null)[]) => cells.map(csvCell).join(",");

async function gunzipText(url: URL): Promise<string> {
  const stream = new Blob([await Deno.readFile(url)]).stream()
    .pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
}

/** scikit-learn's sets from tests/fixtures/trees/data_<name>.json. */
async function sklearnSets(): Promise<DataSetEntry[]> {
  const entries: DataSetEntry[] = [];
  for (const [name, meta] of Object.entries(SKLEARN)) {
    const d = JSON.parse(
      await Deno.readTextFile(new URL(`tests/fixtures/trees/data_${name}.json`, ROOT)),
    ) as { X: (number | null)[][]; y: number[]; task: string };
    const lines = [csvLine([...meta.features, meta.target])];
    d.X.forEach((row, i) => {
      const y = meta.classes ? meta.classes[d.y[i]] : d.y[i];
      lines.push(csvLine([...row, y]));
    });
    await Deno.writeTextFile(new URL(`data/${name}.csv`, OUT), lines.join("\n") + "\n");
    entries.push({
      name,
      title: meta.title,
      file: `${name}.csv`,
      target: meta.target,
      task: meta.classes ? "classification" : "regression",
      rows: d.X.length,
      features: meta.features.length,
      source: "scikit-learn",
    });
  }
  return entries;
}

/** R mlbench's Vehicle and BostonHousing from tests/fixtures/ensembles/data_<name>.csv.gz. */
async function mlbenchSets(): Promise<DataSetEntry[]> {
  const meta = JSON.parse(
    await gunzipText(new URL("tests/fixtures/ensembles/data_sets.json.gz", ROOT)),
  ) as Record<string, { target: string; task: string; classes: string[] | null; rows: number }>;
  const titles: Record<string, string> = {
    vehicle: "Vehicle silhouettes (846 × 18, 4 classes)",
    boston: "Boston housing (506 × 13, regression, one categorical column)",
  };
  const entries: DataSetEntry[] = [];
  for (const name of ["vehicle", "boston"]) {
    const text = await gunzipText(new URL(`tests/fixtures/ensembles/data_${name}.csv.gz`, ROOT));
    const [header, ...rows] = text.trim().split("\n").map((l) => l.split(","));
    const { target, classes, task } = meta[name];
    const targetIndex = header.indexOf(target);
    const foldIndex = header.indexOf("fold");
    // BostonHousing's `chas` (tract bounds the Charles river) is an R factor: named levels make
    // it a categorical column, as a user's CSV would have one.
    const chasIndex = header.indexOf("chas");
    const keep = header.map((_, j) => j).filter((j) => j !== foldIndex);
    const lines = [csvLine(keep.map((j) => header[j]))];
    for (const row of rows) {
      lines.push(csvLine(keep.map((j) => {
        if (j === targetIndex && classes) return classes[Number(row[j])];
        if (j === chasIndex) return row[j] === "1" ? "yes" : "no";
        return row[j] === "" ? null : Number(row[j]);
      })));
    }
    await Deno.writeTextFile(new URL(`data/${name}.csv`, OUT), lines.join("\n") + "\n");
    entries.push({
      name,
      title: titles[name],
      file: `${name}.csv`,
      target,
      task: task as DataSetEntry["task"],
      rows: rows.length,
      features: keep.length - 1,
      source: "R mlbench",
    });
  }
  return entries;
}

/** Bundles uPlot into out/uplot.js (+ its stylesheet). */
async function bundleUplot(): Promise<void> {
  await esbuild.build({
    stdin: {
      contents: `export { default } from "uplot";`,
      resolveDir: new URL(".", ROOT).pathname,
      loader: "js",
    },
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    outfile: new URL("uplot.js", OUT).pathname,
    nodePaths: [new URL("node_modules", ROOT).pathname],
    logLevel: "warning",
  });
  await Deno.copyFile(
    new URL("node_modules/uplot/dist/uPlot.min.css", ROOT),
    new URL("uplot.css", OUT),
  );
}

/** Writes everything under examples/playground/out/. */
export async function buildPlayground(): Promise<void> {
  await Deno.mkdir(new URL("data/", OUT), { recursive: true });
  await bundleUplot();
  const sets = [...(await sklearnSets()), ...(await mlbenchSets())];
  await Deno.writeTextFile(new URL("data/index.json", OUT), JSON.stringify(sets, null, 1));
}

if (import.meta.main) {
  const t0 = performance.now();
  await buildPlayground();
  await esbuild.stop();
  console.log(
    `built examples/playground/out/ in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
