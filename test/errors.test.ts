// Bad input must fail loudly with a message that names the op and the shapes (or dtype/device) involved.
import test from "node:test";
import assert from "node:assert/strict";
import * as torch from "kindling";

const F = torch.nn.functional;
const nn = torch.nn;
const i64 = { dtype: torch.int64 };

/** assert.throws with every pattern required in the one message. */
function throwsAll(fn: () => unknown, ...patterns: (RegExp | string)[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error, "throws an Error");
    for (const p of patterns) {
      if (typeof p === "string") assert.ok(e.message.includes(p), `message ${JSON.stringify(e.message)} should contain ${JSON.stringify(p)}`);
      else assert.match(e.message, p);
    }
    return true;
  });
}

test("Linear(300, 120) on a 4x400 input: PyTorch's mat1/mat2 message", () => {
  const fc = new nn.Linear(300, 120);
  throwsAll(() => fc.forward(torch.zeros([4, 400])), "mat1 and mat2 shapes cannot be multiplied (4x400 and 300x120)", /linear/);
  throwsAll(() => F.linear(torch.zeros([2, 3, 400]), fc.weight), "(6x400 and 300x120)");
  throwsAll(() => F.linear(torch.zeros([4, 300]), fc.weight, torch.zeros([7])), /linear/, /bias/);
});

test("mm / bmm / matmul shape errors name the op and both shapes", () => {
  throwsAll(() => torch.zeros([4, 400]).mm(torch.zeros([300, 120])), /mm/, "mat1 and mat2 shapes cannot be multiplied (4x400 and 300x120)");
  throwsAll(() => torch.mm(torch.zeros([2, 3, 4]), torch.zeros([4, 2])), /mm/, /2-D/);
  throwsAll(() => torch.zeros([2, 3, 4]).bmm(torch.zeros([3, 4, 5])), /bmm/, "2x3x4", "3x4x5");
  throwsAll(() => torch.zeros([2, 3]).bmm(torch.zeros([2, 3])), /bmm/, /3-D/);
  throwsAll(() => torch.zeros([2, 4, 400]).matmul(torch.zeros([300, 120])), /matmul/, "2x4x400", "300x120");
  throwsAll(() => torch.zeros([3]).matmul(torch.zeros([4])), /matmul/, "3", "4");
  throwsAll(() => torch.zeros([]).matmul(torch.zeros([4])), /matmul/, /1D/);
  throwsAll(() => torch.zeros([2, 2, 3]).matmul(torch.zeros([3, 3, 2])), /matmul/, /size of tensor a \(2\) must match the size of tensor b \(3\)/);
  throwsAll(() => torch.zeros([2, 3]).mm(torch.zeros([3, 2], { dtype: torch.float64 })), /mm/, "float32", "float64");
});

test("matmul matrix @ vector mismatch names matmul and the caller's shapes", {
}, () => {
  throwsAll(() => torch.zeros([2, 3]).matmul(torch.zeros([4])), /^matmul/, "2x3");
});

test("conv2d channel mismatch names both shapes", () => {
  throwsAll(() => F.conv2d(torch.zeros([1, 4, 8, 8]), torch.zeros([6, 3, 5, 5])), /conv2d/, "[1, 4, 8, 8]", "[6, 3, 5, 5]", /3 channels/, /4 channels/);
  throwsAll(() => new nn.Conv2d(3, 6, 5).forward(torch.zeros([1, 1, 32, 32])), /conv2d/, "[1, 1, 32, 32]", /1 channels/);
  throwsAll(() => F.conv2d(torch.zeros([1, 4, 8, 8]), torch.zeros([6, 2, 3, 3]), null, { groups: 3 }), /conv2d/, /groups=3/);
  throwsAll(() => F.conv2d(torch.zeros([8, 8]), torch.zeros([6, 3, 5, 5])), /conv2d/, "[8, 8]");
  throwsAll(() => F.conv2d(torch.zeros([1, 3, 4, 4]), torch.zeros([6, 3, 5, 5])), /conv2d/, /too small/);
  throwsAll(() => F.conv2d(torch.zeros([1, 3, 8, 8]), torch.zeros([6, 3, 3, 3]), torch.zeros([5])), /conv2d/, /bias/);
  throwsAll(() => F.conv2d(torch.zeros([1, 3, 8, 8], { dtype: torch.float64 }), torch.zeros([6, 3, 3, 3])), /conv2d/, "float64", "float32");
  throwsAll(() => new nn.Conv2d(3, 6, 3, { groups: 2 }), /Conv2d/, /divisible by groups/);
});

test("broadcast failure in add names both shapes and the dimension", () => {
  throwsAll(() => torch.zeros([2, 3]).add(torch.zeros([4])), /^add/, "[2, 3]", "[4]", /size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1/);
  throwsAll(() => torch.zeros([2, 3]).mul(torch.zeros([3, 2])), /^mul/, "[2, 3]", "[3, 2]");
  throwsAll(() => torch.where(torch.zeros([2], { dtype: torch.bool }), torch.zeros([3]), torch.zeros([3])), /where/);
  throwsAll(() => torch.zeros([2, 3]).expand(3, 3), /expand/, "[3, 3]", "[2, 3]");
});

test("view on an incompatible layout or size", () => {
  throwsAll(() => torch.zeros([2, 3]).t().view(6), /view/, /not compatible/, "[3, 2]", /reshape/);
  throwsAll(() => torch.zeros([2, 3]).view(4), /view/, "[4]", /size 6/);
  throwsAll(() => torch.zeros([2, 3]).view(-1, -1), /view/, /only one dimension can be inferred/);
  throwsAll(() => torch.zeros([2, 3]).reshape(-1, 4), /reshape/, /invalid for input of size 6/);
  assert.deepEqual(torch.zeros([2, 3]).t().reshape(6).shape, [6], "reshape copies where view cannot");
});

test("crossEntropy: target out of range, wrong dtype, wrong shape", () => {
  const logits = torch.zeros([2, 3]);
  throwsAll(() => F.crossEntropy(logits, torch.tensor([0, 3], i64)), /crossEntropy/, /target 3 is out of bounds/, /\[0, 2\]/);
  throwsAll(() => F.crossEntropy(logits, torch.tensor([0, -1], i64)), /crossEntropy/, /-1/);
  throwsAll(() => F.crossEntropy(logits, torch.tensor([0, 1])), /crossEntropy/, /int64/, /float32/);
  throwsAll(() => F.crossEntropy(logits, torch.tensor([0, 1, 2], i64)), /crossEntropy/, "[3]", "[2, 3]");
  throwsAll(() => F.crossEntropy(torch.zeros([2, 3], i64), torch.tensor([0, 1], i64)), /crossEntropy/, /floating point/);
  throwsAll(() => F.crossEntropy(logits, torch.tensor([0, 1], i64), { labelSmoothing: 1.5 }), /labelSmoothing/);
  throwsAll(() => F.nllLoss(logits, torch.tensor([0, 5], i64)), /nllLoss/, /target 5 is out of bounds/);
  throwsAll(() => new nn.CrossEntropyLoss().forward(logits, torch.tensor([7, 0], i64)), /out of bounds/);
  // ignoreIndex values are exempt from the range check.
  assert.equal(F.crossEntropy(logits, torch.tensor([-100, 1], i64)).dim(), 0);
});

test("CUDA: not available, and asking for it says how to choose a device", () => {
  assert.equal(torch.cuda.isAvailable(), false);
  const device = torch.cuda.isAvailable() ? "cuda:0" : "cpu";
  assert.equal(torch.zeros([2]).to(device).device, "cpu", "the tutorial's device line works unchanged");
  for (const f of [
    () => torch.zeros([2]).to("cuda"),
    () => torch.zeros([2]).to("cuda:0"),
    () => torch.zeros([2]).cuda(),
    () => torch.zeros([2], { device: "cuda:0" }),
    () => new nn.Linear(2, 2).to("cuda"),
  ]) {
    throwsAll(f, /not available/, /torch\.cuda\.isAvailable\(\)/);
  }
  throwsAll(() => torch.zeros([2]).to("tpu"), /invalid device/, "tpu");
});

test("unknown dtype is refused by name", () => {
  throwsAll(() => torch.tensor([1, 2], { dtype: "float16" as torch.DType }), /unknown dtype/, "float16");
});

test("unknown dtype in factories is refused by name", () => {
  throwsAll(() => torch.zeros([2], { dtype: "float16" as torch.DType }), /dtype/, "float16");
  throwsAll(() => torch.ones([2], { dtype: "half" as torch.DType }), /dtype/, "half");
});

test("pooling on a 2-D input", () => {
  throwsAll(() => F.maxPool2d(torch.zeros([4, 4]), 2), /maxPool2d/, /4-D/, "[4, 4]");
  throwsAll(() => F.avgPool2d(torch.zeros([4, 4]), 2), /avgPool2d/, "[4, 4]");
  throwsAll(() => new nn.MaxPool2d(2, 2).forward(torch.zeros([4, 4])), /maxPool2d/, "[4, 4]");
  throwsAll(() => F.maxPool2d(torch.zeros([1, 1, 4, 4]), 2, { padding: 2 }), /maxPool2d/, /pad should be at most half/);
  throwsAll(() => F.maxPool2d(torch.zeros([1, 1, 4, 4], i64), 2), /maxPool2d/, /floating point/);
});

test("dimension, index and cat/stack errors", () => {
  throwsAll(() => torch.zeros([2, 3]).sum(2), /sum/, /dimension out of range/, /\[-2, 1\]/);
  throwsAll(() => torch.zeros([2, 3]).softmax(3), /softmax/, /out of range/);
  throwsAll(() => torch.zeros([2, 3]).permute(0), /permute/);
  throwsAll(() => torch.zeros([2, 3]).permute(0, 0), /permute/, /repeated/);
  throwsAll(() => torch.zeros([2, 3]).select(1, 3), /select/, /index 3 is out of bounds for dimension 1 with size 3/);
  throwsAll(() => torch.zeros([2, 3]).narrow(1, 2, 2), /narrow/);
  throwsAll(() => torch.zeros([2, 3]).index(0, 0, 0), /index/, /too many indices/);
  throwsAll(() => torch.zeros([2, 3]).indexSelect(0, torch.tensor([0.5])), /indexSelect/, /integer/);
  throwsAll(() => torch.cat([torch.zeros([2, 3]), torch.zeros([2, 4])]), /cat/, "[2, 3]", "[2, 4]");
  throwsAll(() => torch.cat([]), /cat/, /non-empty/);
  throwsAll(() => torch.stack([torch.zeros([2]), torch.zeros([3])]), /stack/, "[2]", "[3]");
  throwsAll(() => torch.zeros([2, 3]).split([1, 2], 0), /split/, "[1, 2]");
  throwsAll(() => torch.zeros([2, 3]).repeat(2), /repeat/);
  throwsAll(() => torch.zeros([2, 3]).t().t().flatten(1, 0), /flatten/);
});

test("misc value errors", () => {
  throwsAll(() => torch.zeros([2]).item(), /item/, /2 elements/);
  throwsAll(() => torch.tensor([[1, 2], [3]] as unknown as number[][]), /tensor/, /length 2/);
  throwsAll(() => torch.zeros([2], i64).mean(), /mean/, /int64/);
  throwsAll(() => torch.zeros([-1]), /invalid shape/);
  throwsAll(() => torch.randn([2], i64), /randn/, /floating point/);
  throwsAll(() => F.dropout(torch.zeros([2]), { p: 1.5 }), /dropout/);
  throwsAll(() => torch.backends.cpu.use("nope"), /unknown CPU backend 'nope'/, /ref/);
  throwsAll(() => F.batchNorm(torch.zeros([1, 2]), null, null, { training: true }), /batchNorm/, /more than 1 value per channel/);
  throwsAll(() => F.batchNorm(torch.zeros([2, 2]), null, null, { training: false }), /batchNorm/, /running/);
  throwsAll(() => new torch.optim.SGD([torch.zeros([1], { requiresGrad: true })], { lr: -1 }), /learning rate/);
  throwsAll(() => new torch.optim.Adam([torch.zeros([1], { requiresGrad: true })], { betas: [0.9, 1.0] }), /betas/);
});
