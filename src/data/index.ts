// torch.utils.data
export { Dataset, TensorDataset, Subset, ConcatDataset, randomSplit, type WorkerSpec } from "./dataset.js";
export { SequentialSampler, RandomSampler, SubsetRandomSampler, BatchSampler, type Sampler, type RandomSamplerOptions } from "./sampler.js";
export { defaultCollate } from "./collate.js";
export { DataLoader, type DataLoaderOptions } from "./dataloader.js";
export { DistributedSampler, type DistributedSamplerOptions } from "./distributed_sampler.js";
