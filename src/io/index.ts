// torch.io: safetensors files, training checkpoints, and the safe unpickler behind the CIFAR-10 reader.
export * as safetensors from "./safetensors.js";
export { saveCheckpoint, loadCheckpoint, readCheckpoint, CheckpointError, NotACheckpointError, type CheckpointInfo, type SaveCheckpointOptions, type LoadCheckpointOptions } from "./checkpoint.js";
export { unpickle, UnpicklingError, type UnpickleOptions } from "./pickle.js";
