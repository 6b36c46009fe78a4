/**
 * The power governor's pure core: which installed GGUF variant to run, with which settings, against the
 * user's target and the power state, and why. No I/O: the store, engine and telemetry supply the inputs
 * (time included) and act on the outputs.
 *
 * Typical use: `buildCandidates(inputs, machine)` once per catalog/measurement change, then
 * `decide({ candidates, target: profileTarget(profile, power) or a custom target, power, usage })` per
 * power-state change, then `shouldSwitch(decision, current, ctx)` between turns.
 */
export * from './types.js';
export * from './quality.js';
export * from './publishedScores.js';
export * from './costModel.js';
export * from './profiles.js';
export * from './hysteresis.js';
export * from './recommend.js';
export * from './decide.js';
