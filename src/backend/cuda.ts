import { cudaDeviceCount, cudaIsAvailable } from "./device.js";

/** torch.cuda.isAvailable(): false until kindling ships its CUDA addon. */
export function isAvailable(): boolean {
  return cudaIsAvailable();
}

export function deviceCount(): number {
  return cudaDeviceCount();
}
