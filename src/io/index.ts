// torch.io: safetensors files, training checkpoints, and the safe unpickler behind the CIFAR-10 reader.
export * as safetensors from "./safetensors.js";
export { saveCheckpoint, loadCheckpoint, readCheckpoint, CheckpointError, NotACheckpointError, type CheckpointInfo, type SaveCheckpointOptions, type LoadCheckpointOptions } from "./checkpoint.js";
export { unpickle, UnpicklingError, type UnpickleOptions } from "./pickle.js";
export { load, loadTorchBytes, TorchLoadError, TORCH_STORAGES, type TorchLoadOptions } from "./torch_load.js";
export { save, torchSaveChunks, TorchSaveError, type Savable } from "./torch_save.js";
export { readZip, writeZip, ZipError, type ZipEntry, type ZipInput } from "./zip.js";
