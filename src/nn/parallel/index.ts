// torch.nn.parallel
export { DistributedDataParallel, type DistributedDataParallelOptions } from "./distributed.js";
export { DataParallel, type DataParallelOptions } from "./data_parallel.js";
