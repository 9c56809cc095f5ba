export { Optimizer, type OptimizerStateDict, type ParamGroup, type ParamGroupSpec, type ParamState } from "./optimizer.js";
export { SGD, type SGDOptions } from "./sgd.js";
export { Adam, AdamW, type AdamOptions } from "./adam.js";
export * as lrScheduler from "./lr_scheduler.js";
