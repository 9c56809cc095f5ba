// torch.utils: data loading (torch.utils.data) and TensorBoard logging (torch.utils.tensorboard).
export * as data from "../data/index.js";
export * as tensorboard from "./tensorboard/index.js";
