// The devices a device-parameterised test runs on: cpu with the reference kernels, cpu with the native kernels
// (when the addon is built), meta (for tests that assert shapes, dtypes and errors, not values), and cuda when a
// CUDA backend exists. `forEachDevice` registers one node:test test per device.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";

export interface TestDevice {
  /** "cpu/ref", "cpu/native", "meta", "cuda:0". */
  readonly label: string;
  /** What to pass as `{ device }` and to `.to()`. */
  readonly device: string;
  /** False on meta: the test may not read values. */
  readonly hasData: boolean;
}

interface Entry extends TestDevice {
  readonly kernels?: string;
}

function available(): Entry[] {
  const out: Entry[] = [];
  for (const k of torch.backends.cpu.available()) {
    if (k === "ref" || k === "native") out.push({ label: `cpu/${k}`, device: "cpu", hasData: true, kernels: k });
  }
  out.push({ label: "meta", device: "meta", hasData: false });
  if (torch.cuda.isAvailable()) out.push({ label: "cuda:0", device: "cuda:0", hasData: true });
  return out;
}

export function testDevices(o: { values?: boolean } = {}): TestDevice[] {
  return available().filter((d) => !o.values || d.hasData);
}

/**
 * One test per device. `values: true` marks a test that reads values (it skips meta); otherwise the body should
 * check what it reads only when `d.hasData`.
 */
export function forEachDevice(name: string, body: (d: TestDevice) => void | Promise<void>, o: { values?: boolean } = {}): void {
  // Without a GPU the cuda run is reported as skipped, with the reason, rather than silently absent.
  if (!torch.cuda.isAvailable()) test(`${name} [cuda:0]`, { skip: `no CUDA: ${torch.cuda.unavailableReason()}` }, () => {});
  for (const d of available()) {
    if (o.values && !d.hasData) continue;
    test(`${name} [${d.label}]`, async () => {
      const prev = torch.backends.cpu.current();
      const e = d as Entry;
      if (e.kernels) torch.backends.cpu.use(e.kernels);
      try {
        await body(d);
      } finally {
        torch.backends.cpu.use(prev);
      }
    });
  }
}

/**
 * Values where the device has them; on meta, the same numel and the device (what a value-free device can promise).
 */
export function assertValues(d: TestDevice, t: torch.Tensor, want: readonly number[], msg?: string): void {
  assert.equal(t.device, d.device, `${msg ?? "tensor"}: device`);
  if (d.hasData) assert.deepEqual(Array.from(t.toTypedArray(), Number), [...want], msg);
  else assert.equal(t.numel(), want.length, `${msg ?? "tensor"}: numel`);
}
