// The object test/fixtures/torch_io_kindling.pt holds: written by kindling's torch.save
// (scripts/write_torch_io_fixture.mjs), read back by PyTorch 1.13 with weights_only=True
// (scripts/gen_torch_io_fixtures.py records what it saw in test/fixtures/torch_io.json).
import * as torch from "kindling";

export function torchIoSample(): Record<string, torch.io.Savable> {
  const w = torch.arange(6, { dtype: "float32" }).mul(0.5).sub(1).reshape([2, 3]);
  return {
    "conv.weight": w,
    // A transposed view of the same storage: PyTorch must see one storage and a non-contiguous stride.
    "conv.weightT": w.t(),
    "fc.bias": torch.tensor([0.25, -1.5, 3], { dtype: "float64" }),
    idx: torch.tensor([0, -7, 2 ** 40, 5], { dtype: "int64" }),
    i32: torch.tensor([[1, -2], [3, 2147483647]], { dtype: "int32" }),
    pix: torch.tensor([[0, 255], [17, 128]], { dtype: "uint8" }),
    mask: torch.tensor([true, false, true]),
    meta: { epoch: 3, name: "net", big: 2 ** 40, neg: -5, nested: [1, 2, [3, "x"]], pair: Object.freeze([4, "y"]), none: null, ok: true },
  };
}
