/**
 * Diffusion sampling in the sigma space of Karras et al. (2022): schedules, parameterisations
 * and preconditioning, model adapters, ODE/SDE samplers behind one `sample()` call, and an exact
 * Gaussian-mixture denoiser.
 *
 * @module
 */
export type {
  ChurnOptions,
  Denoiser,
  DenoiserInfo,
  Network,
  NoiseFunction,
  NoiseInfo,
  Parameterisation,
  Preconditioning,
  StepInfo,
} from "./types.ts";
export { karrasSigmas } from "./karras_sigmas.ts";
export { exponentialSigmas } from "./exponential_sigmas.ts";
export { polyexponentialSigmas } from "./polyexponential_sigmas.ts";
export { vpSigmas } from "./vp_sigmas.ts";
export { veSigmas } from "./ve_sigmas.ts";
export { iddpmSigmas } from "./iddpm_sigmas.ts";
export { flowMatchingSigmas } from "./flow_matching_sigmas.ts";
export { discreteTimesteps, TIMESTEP_SPACINGS } from "./discrete_timesteps.ts";
export { BETA_SCHEDULES, discreteSigmas } from "./discrete_sigmas.ts";
export { type ScheduleName, SCHEDULES } from "./schedules.ts";
export { type ParameterisationName, PARAMETERISATIONS } from "./parameterisations.ts";
export { type PreconditioningName, PRECONDITIONINGS } from "./preconditionings.ts";
export { preconditionedDenoiser } from "./preconditioned_denoiser.ts";
export { denoiserFromEpsilon } from "./denoiser_from_epsilon.ts";
export { denoiserFromVPrediction } from "./denoiser_from_v_prediction.ts";
export { denoiserFromScore } from "./denoiser_from_score.ts";
export { denoiserFromVelocity } from "./denoiser_from_velocity.ts";
export {
  classifierFreeGuidance,
  type ClassifierFreeGuidanceOptions,
} from "./classifier_free_guidance.ts";
export { type Sampler, type SamplerContext, type SamplerName, SAMPLERS } from "./samplers.ts";
export { type InpaintOptions, sample, type SampleOptions } from "./sample.ts";
export { GaussianMixture, type GaussianMixtureOptions } from "./gaussian_mixture.ts";
