export { gradcheck, type GradcheckOptions, type GradcheckResult } from "./gradcheck.js";
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from "./grad_mode.js";
export type { BackwardOptions } from "./engine.js";
export { Node } from "./node.js";
export { grad, type GradOptions } from "./grad.js";
