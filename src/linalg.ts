// torch.linalg: the functions kindling has so far.
export { eigh, type EighResult } from "./tensor/eigh.js";
