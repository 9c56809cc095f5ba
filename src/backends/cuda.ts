/** torch.cuda.isAvailable(): false until kindling ships its CUDA addon. */
export function isAvailable(): boolean {
  return false;
}

export function deviceCount(): number {
  return 0;
}
