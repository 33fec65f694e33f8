// A strict TypeScript consumer of the installed package: it touches every public export, so
// that `tsc --strict --noEmit` checks the shipped declarations (dist/tessera.d.ts) end to end.
// The `@ts-expect-error` lines are wrong calls: if the declarations degraded to `any`, each of
// them would stop being an error and tsc would fail on the unused directive.
// tests/package/package_test.mjs also checks that every name the declarations export appears
// here, so a new export has to be added.
import {
  AdaBoostClassifier, AdaBoostRegressor, BaggingClassifier, BaggingRegressor, BETA_SCHEDULES, classifierFreeGuidance, clone,
  DecisionTreeClassifier, DecisionTreeRegressor, denoiserFromEpsilon, denoiserFromScore,
  denoiserFromVelocity, denoiserFromVPrediction, discreteSigmas, discreteTimesteps, dispose,
  exponentialSigmas, flowMatchingSigmas, fromXGBoostJSON, gatedAttentionUnit, GaussianMixture,
  GradientBoostingClassifier, GradientBoostingRegressor, iddpmSigmas, init, karrasSigmas,
  linearAttention, LogisticRegression, matmul, mixedChunkAttention, PARAMETERISATIONS,
  polyexponentialSigmas, PRECONDITIONINGS, preconditionedDenoiser, RandomForestClassifier,
  RandomForestRegressor, Ridge, runtimeInfo, sample, SAMPLERS, scaledDotProductAttention,
  scaledDotProductAttentionWithLse, SCHEDULES, StackingClassifier, StackingRegressor, tensor,
  TIMESTEP_SPACINGS, veSigmas, vpSigmas, XGBClassifier, XGBRegressor, zeros,
} from "tessera-ml";
import type {
  AdaBoostClassifierOptions, AdaBoostOptions, AdaBoostRegressorOptions, Backend, BaggingOptions,
  ChurnOptions, ClassifierFreeGuidanceOptions, DecisionTreeOptions, Denoiser, DenoiserInfo, EnsembleFitOptions, Estimator,
  ForestOptions, GAUParams, GaussianMixtureOptions, GBFitOptions, GBOptions,
  GatedAttentionUnitOptions, ImportanceType, InpaintOptions, LinearAttentionOptions, LogisticFitOptions,
  LogisticRegressionOptions, LogisticSolver, MatmulOptions, Matrix, MixedChunkAttentionOptions,
  Network, NoiseFunction, NoiseInfo, Parameterisation, ParameterisationName, Preconditioning,
  PreconditioningName, RidgeFitOptions, RidgeOptions, RuntimeInfo, SampleOptions, Sampler,
  SamplerContext, SamplerName, ScaledDotProductAttentionOptions, ScheduleName, StackingOptions,
  StepInfo, Tensor, TreeFitOptions, TreeOptions, XGBFitOptions, XGBOptions,
} from "tessera-ml";
import * as edge from "tessera-ml/edge";

export async function runtime(): Promise<RuntimeInfo> {
  const backend: Backend = "wasm";
  const info: RuntimeInfo = await init({ backend, threads: 2 });
  const threads: number = runtimeInfo().threads;
  // @ts-expect-error threads is a number
  await init({ threads: "2" });
  // @ts-expect-error not a backend
  await init({ backend: "cuda" });
  await dispose();
  const edgeInfo: RuntimeInfo = await edge.init();
  return threads > 0 ? info : edgeInfo;
}

export async function linearAlgebra(): Promise<number> {
  const a: Tensor = tensor([1, 2, 3, 4], [2, 2]);
  const opts: MatmulOptions = { transposeB: true, alpha: 2 };
  const c: Tensor = await matmul(a, zeros([2, 2]), opts);
  // @ts-expect-error a Tensor, not a plain array
  await matmul([[1, 2]], a);
  const rows: Matrix = [[1, 2], [3, 4]];
  return c.data[0] + rows.length;
}

export async function attention(q: Tensor, k: Tensor, v: Tensor, x: Tensor, params: GAUParams) {
  const sdpa: ScaledDotProductAttentionOptions = { causal: true, scale: 0.125 };
  const out: Tensor = await scaledDotProductAttention(q, k, v, sdpa);
  const { output, logSumExp } = await scaledDotProductAttentionWithLse(q, k, v);
  const linear: LinearAttentionOptions = { featureMap: "elu+1" };
  await linearAttention(q, k, v, linear);
  const mixed: MixedChunkAttentionOptions = { chunkSize: 64, causal: true };
  await mixedChunkAttention(q, k, v, mixed);
  // @ts-expect-error chunkSize is required
  await mixedChunkAttention(q, k, v, {});
  // @ts-expect-error not a feature map
  await linearAttention(q, k, v, { featureMap: "softmax" });
  const gau: GatedAttentionUnitOptions = { chunkSize: 32 };
  const y: Tensor = await gatedAttentionUnit(x, params, gau);
  return [out, output, logSumExp, y];
}

export async function diffusion(): Promise<Float32Array> {
  const mixtureOptions: GaussianMixtureOptions = {
    means: [[0, 0], [2, 2]], variances: [[1, 1], [0.5, 0.5]], weights: [0.5, 0.5],
  };
  const mixture = new GaussianMixture(mixtureOptions);
  const denoiser: Denoiser = mixture.denoiser;
  const sigmas: Float64Array = karrasSigmas({ steps: 10, sigmaMax: 80 });
  const name: SamplerName = "heun";
  const sampler: Sampler = SAMPLERS[name];
  const churn: ChurnOptions = { sChurn: 1 };
  const onStep = (s: StepInfo) => void s.nfe;
  const options: SampleOptions = { denoiser, batch: 4, dim: 2, sigmas, sampler: name, churn, onStep };
  const x: Float32Array = await sample(options);
  const guidance: ClassifierFreeGuidanceOptions = {
    conditional: denoiser, unconditional: denoiser, scale: 2, sigmaInterval: [0.3, 5],
  };
  const guided: Denoiser = classifierFreeGuidance(guidance);
  const inpaint: InpaintOptions = { known: new Float32Array(8), mask: new Float32Array(8).fill(1), resample: 2 };
  const controller = new AbortController();
  await sample({ ...options, denoiser: guided, inpaint, signal: controller.signal });
  // @ts-expect-error scale is a number
  classifierFreeGuidance({ ...guidance, scale: "2" });
  // @ts-expect-error not a sampler
  await sample({ ...options, sampler: "magic" });
  // @ts-expect-error dim is required
  await sample({ denoiser, batch: 4, sigmas });
  const schedules: ScheduleName[] = Object.keys(SCHEDULES) as ScheduleName[];
  const all = [
    exponentialSigmas({ steps: 4 }), polyexponentialSigmas({ steps: 4 }), vpSigmas({ steps: 4 }),
    veSigmas({ steps: 4 }), iddpmSigmas({ steps: 4 }), flowMatchingSigmas({ steps: 4 }),
    discreteSigmas({ steps: 4, betaSchedule: BETA_SCHEDULES[0], spacing: TIMESTEP_SPACINGS[0] }),
  ];
  const timesteps: Int32Array = discreteTimesteps({ steps: 4 });
  const network: Network = (xt: Float32Array, _c: number, info: DenoiserInfo) =>
    xt.subarray(0, info.batch * info.dim);
  const kind: PreconditioningName = "edm";
  const preconditioning: Preconditioning = PRECONDITIONINGS[kind]();
  const parameterisationName: ParameterisationName = "vp";
  const parameterisation: Parameterisation = PARAMETERISATIONS[parameterisationName]({ betaMin: 0.1 });
  const adapters: Denoiser[] = [
    preconditionedDenoiser(network, preconditioning), denoiserFromEpsilon(network),
    denoiserFromVPrediction(network), denoiserFromScore(network), denoiserFromVelocity(network),
  ];
  const noise: NoiseFunction = (out: Float32Array, info: NoiseInfo) => void out.fill(info.draw);
  const context = (ctx: SamplerContext) => ctx.batch;
  return all.length + schedules.length + timesteps.length + adapters.length > 0 && !!parameterisation &&
      !!noise && !!context
    ? x
    : mixture.sample(4, 1);
}

export async function trees(X: number[][], y: number[]): Promise<Tensor> {
  const xgbOptions: XGBOptions = { nEstimators: 10, maxDepth: 3, learningRate: 0.3, seed: 1 };
  const fitOptions: XGBFitOptions = {
    evalSet: [X, y], onProgress: (p) => void p.iteration.toFixed(),
  };
  const model: XGBClassifier = await new XGBClassifier(xgbOptions).fit(X, y, fitOptions);
  const labels: Float32Array = await model.predict(X);
  const proba: Tensor = await model.predictProba(X);
  // @ts-expect-error nEstimators is a number
  new XGBClassifier({ nEstimators: "10" });
  // @ts-expect-error not an option of XGBClassifier
  new XGBClassifier({ nTrees: 10 });
  const importance: ImportanceType = "gain";
  await new XGBRegressor({ importanceType: importance }).fit(X, y);
  const restored: XGBClassifier | XGBRegressor = fromXGBoostJSON(JSON.stringify(model.toJSON()));
  const contributions: Tensor = await model.predictContributions(X); // [n, F + 1], bias last
  const interactions: Tensor = await model.predictInteractions(X);
  const forPython: string = model.toXGBoostJSON();
  fromXGBoostJSON(new TextEncoder().encode(forPython)); // bytes: UBJSON or JSON text
  // @ts-expect-error a number is not a model
  fromXGBoostJSON(42);
  const treeOptions: DecisionTreeOptions = { maxDepth: 4, criterion: "gini" };
  const treeFit: TreeFitOptions = {};
  await new DecisionTreeClassifier(treeOptions).fit(X, y, treeFit);
  const shared: TreeOptions = { maxDepth: 3 };
  await new DecisionTreeRegressor(shared).fit(X, y);
  const forest: ForestOptions = { nEstimators: 5, seed: 1 };
  const ensembleFit: EnsembleFitOptions = {};
  await new RandomForestClassifier(forest).fit(X, y, ensembleFit);
  await new RandomForestRegressor(forest).fit(X, y);
  const gb: GBOptions = { nEstimators: 5 };
  const gbFit: GBFitOptions = {};
  await new GradientBoostingClassifier(gb).fit(X, y, gbFit);
  await new GradientBoostingRegressor(gb).fit(X, y);
  const ada: AdaBoostOptions = { nEstimators: 5 };
  const adaClassifier: AdaBoostClassifierOptions = { ...ada, learningRate: 0.5 };
  const adaRegressor: AdaBoostRegressorOptions = { ...ada, loss: "square" };
  await new AdaBoostClassifier(adaClassifier).fit(X, y);
  await new AdaBoostRegressor(adaRegressor).fit(X, y);
  const bagging: BaggingOptions = { nEstimators: 3, estimator: new DecisionTreeClassifier() };
  await new BaggingClassifier(bagging).fit(X, y);
  await new BaggingRegressor({ nEstimators: 3 }).fit(X, y);
  const solver: LogisticSolver = "lbfgs";
  const logisticOptions: LogisticRegressionOptions = { C: 1, solver };
  const logisticFit: LogisticFitOptions = {};
  const logistic = await new LogisticRegression(logisticOptions).fit(X, y, logisticFit);
  const ridgeOptions: RidgeOptions = { alpha: 1 };
  const ridgeFit: RidgeFitOptions = {};
  await new Ridge(ridgeOptions).fit(X, y, ridgeFit);
  const stacking: StackingOptions = { estimators: [new DecisionTreeClassifier(), logistic], cv: 2 };
  await new StackingClassifier(stacking).fit(X, y);
  await new StackingRegressor({ estimators: [new Ridge()] }).fit(X, y);
  const template: Estimator = clone(model, { nEstimators: 3 });
  // @ts-expect-error predict takes a matrix
  await model.predict("rows");
  return restored && template && labels.length && contributions && interactions ? proba : zeros([0, 0]);
}
