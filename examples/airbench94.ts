// airbench94 (Keller Jordan's CIFAR-10 speed-run recipe) written out with kindling's public API: the same recipe as
// `kindling train --recipe airbench94`, as one readable script.
//   npm run build && node dist/examples/airbench94.js      (or: npx tsx examples/airbench94.ts)
// Data: $KINDLING_DATA or ./data (cifar-10-batches-py/ or -bin/). Knobs for quick runs (defaults are the recipe's):
// AIRBENCH_EPOCHS (9.9), AIRBENCH_BATCH (1024), AIRBENCH_WIDTHS ("64,256,256"), AIRBENCH_SEED (0).
import * as torch from "kindling";
import { datasets, transforms } from "kindling/vision";

const { nn } = torch;
const F = nn.functional;
type Tensor = torch.Tensor;

const root = process.env.KINDLING_DATA ?? "./data";
const epochs = Number(process.env.AIRBENCH_EPOCHS ?? 9.9);
const batchSize = Number(process.env.AIRBENCH_BATCH ?? 1024);
const widths = (process.env.AIRBENCH_WIDTHS ?? "64,256,256").split(",").map(Number);
torch.manualSeed(Number(process.env.AIRBENCH_SEED ?? 0));

const hyp = { lr: 11.5, momentum: 0.85, weightDecay: 0.0153, biasScaler: 64, labelSmoothing: 0.2, whitenBiasEpochs: 3, translate: 2 };

// 1. Data: uint8 N x 3 x 32 x 32 images and int64 labels, normalised per batch.
function load(train: boolean): { images: Tensor; labels: Tensor } {
  const ds = new datasets.CIFAR10({ root, train, download: true });
  const hwc = torch.fromTypedArray(ds.data, [ds.targets.length, 32, 32, 3]);
  return { images: hwc.permute(0, 3, 1, 2).contiguous(), labels: torch.tensor(ds.targets, { dtype: torch.int64 }) };
}
const trainSet = load(true);
const testSet = load(false);
const mean = torch.tensor([0.4914, 0.4822, 0.4465]).reshape(1, 3, 1, 1);
const std = torch.tensor([0.247, 0.2435, 0.2616]).reshape(1, 3, 1, 1);
const normalize = (u8: Tensor): Tensor => u8.float().div(255).sub(mean).div(std);

// 2. The network.
class BatchNorm extends nn.BatchNorm2d {
  constructor(c: number) {
    super(c, { momentum: 1 - 0.6, eps: 1e-12 }); // airbench's momentum 0.6 is PyTorch's 0.4
    this.weight!.requiresGrad_(false); // frozen at 1: only the bias trains
  }
}

function conv(cin: number, cout: number): torch.nn.Conv2d {
  const c = new nn.Conv2d(cin, cout, 3, { padding: "same", bias: false });
  nn.init.dirac_(c.weight.narrow(0, 0, Math.min(cin, cout))); // start as the identity on the first channels
  return c;
}

class ConvGroup extends nn.Module {
  conv1: torch.nn.Conv2d;
  pool = new nn.MaxPool2d(2);
  norm1: BatchNorm;
  conv2: torch.nn.Conv2d;
  norm2: BatchNorm;
  activ = new nn.GELU();
  constructor(cin: number, cout: number) {
    super();
    this.conv1 = conv(cin, cout);
    this.norm1 = new BatchNorm(cout);
    this.conv2 = conv(cout, cout);
    this.norm2 = new BatchNorm(cout);
  }
  forward(x: Tensor): Tensor {
    x = this.activ.forward(this.norm1.forward(this.pool.forward(this.conv1.forward(x))));
    return this.activ.forward(this.norm2.forward(this.conv2.forward(x)));
  }
}

class Scale extends nn.Module {
  forward(x: Tensor): Tensor {
    return x.mul(1 / 9);
  }
}

const whiten = new nn.Conv2d(3, 24, 2, { padding: 0, bias: true });
const net = new nn.Sequential(whiten, new nn.GELU(), new ConvGroup(24, widths[0]!), new ConvGroup(widths[0]!, widths[1]!),
  new ConvGroup(widths[1]!, widths[2]!), new nn.MaxPool2d(3), new nn.Flatten(), new nn.Linear(widths[2]!, 10, { bias: false }), new Scale());
whiten.weight.requiresGrad_(false);

// 3. The whitening layer: eigenvectors of the 2x2 patches' covariance (5000 images), scaled by 1/sqrt(λ + 5e-4),
// and their negatives.
torch.noGrad(() => {
  const x = normalize(trainSet.images.narrow(0, 0, Math.min(5000, trainSet.images.size(0)))).double();
  const patches: Tensor[] = [];
  for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) patches.push(x.narrow(2, dy, 31).narrow(3, dx, 31));
  // N x 3 x 4 x 31 x 31 -> (patches) x 12, ordered channel, row, column like the conv weight
  const flat = torch.stack(patches, 2).permute(0, 3, 4, 1, 2).reshape(-1, 12);
  const cov = flat.t().matmul(flat).div(flat.size(0));
  const { eigenvalues, eigenvectors } = torch.linalg.eigh(cov, "U");
  const filters = eigenvectors.t().flip(0).div(eigenvalues.flip(0).add(5e-4).sqrt().reshape(12, 1));
  whiten.weight.copy_(torch.cat([filters, filters.neg()]).reshape(24, 3, 2, 2).float());
});

// 4. Optimizer: Nesterov SGD, BatchNorm biases at 64x the lr; lr and weight decay are "per 1024 examples".
const kilostep = 1024 * (1 + 1 / (1 - hyp.momentum));
const lr = hyp.lr / kilostep;
const wd = (hyp.weightDecay * batchSize) / kilostep;
const named = net.namedParameters().filter(([, p]) => p.requiresGrad);
const normBiases = named.filter(([k]) => k.includes("norm")).map(([, p]) => p);
const others = named.filter(([k]) => !k.includes("norm")).map(([, p]) => p);
const optimizer = new torch.optim.SGD(
  [
    { params: normBiases, lr: lr * hyp.biasScaler, weightDecay: wd / (lr * hyp.biasScaler) },
    { params: others, lr, weightDecay: wd / lr },
  ],
  { momentum: hyp.momentum, nesterov: true },
);
const stepsPerEpoch = Math.floor(trainSet.images.size(0) / batchSize);
const totalSteps = Math.ceil(stepsPerEpoch * epochs);
const warmup = Math.floor(totalSteps * 0.23);
const triangle = (s: number) => (s < warmup ? 0.2 + 0.8 * (s / warmup) : 1 - 0.93 * ((s - warmup) / (totalSteps - warmup)));
const scheduler = new torch.optim.lrScheduler.LambdaLR(optimizer, triangle);

// 5. Lookahead-style EMA of every float tensor of the state dict, applied every 5 steps.
const ema = Object.fromEntries(Object.entries(net.stateDict()).filter(([, v]) => v.isFloatingPoint()).map(([k, v]) => [k, v.clone()]));
function lookahead(decay: number): void {
  const sd = net.stateDict();
  torch.noGrad(() => {
    for (const [k, e] of Object.entries(ema)) {
      e.lerp_(sd[k]!, 1 - decay);
      sd[k]!.copy_(e);
    }
  });
}

// 6. Evaluation, optionally with test-time augmentation (mirror x {identity, two 1-pixel shifts}: six views).
function evaluate(tta: boolean): number {
  net.eval();
  let correct = 0;
  torch.noGrad(() => {
    for (let s = 0; s < testSet.images.size(0); s += 2000) {
      const n = Math.min(2000, testSet.images.size(0) - s);
      const x = normalize(testSet.images.narrow(0, s, n));
      const f = (t: Tensor) => net.forward(t) as Tensor;
      const mirror = (t: Tensor) => f(t).add(f(t.flip(-1))).mul(0.5);
      let logits = f(x);
      if (tta) {
        const p = F.pad(x, [1, 1, 1, 1], { mode: "reflect" });
        const shifted = mirror(p.narrow(2, 0, 32).narrow(3, 0, 32).contiguous()).add(mirror(p.narrow(2, 2, 32).narrow(3, 2, 32).contiguous())).mul(0.5);
        logits = mirror(x).mul(0.5).add(shifted.mul(0.5));
      }
      correct += logits.argmax(1).eq(testSet.labels.narrow(0, s, n)).sum().item();
    }
  });
  net.train();
  return correct / testSet.images.size(0);
}

// 7. Training: random flip once, reflect-pad once; each epoch a random 2-pixel translation of every image, the whole
// set mirrored on odd epochs, shuffled into full batches.
const flipped = transforms.batchFlipLR(trainSet.images);
const padded = transforms.batchReflectPad(flipped, hyp.translate);
console.log("epoch  train_loss  train_acc  val_acc  tta_val_acc  seconds");
let step = 0;
let seconds = 0;
for (let epoch = 0; step < totalSteps; epoch++) {
  const t0 = performance.now();
  (whiten.bias as torch.Tensor).requiresGrad_(epoch < hyp.whitenBiasEpochs);
  const images = transforms.alternatingFlip(transforms.batchCrop(padded, 32), epoch);
  const order = torch.randperm(images.size(0));
  let trainLoss = NaN;
  let trainAcc = NaN;
  for (let i = 0; i < stepsPerEpoch && step < totalSteps; i++) {
    const idx = order.narrow(0, i * batchSize, batchSize);
    const inputs = normalize(images.indexSelect(0, idx));
    const labels = trainSet.labels.indexSelect(0, idx);
    const outputs = net.forward(inputs) as Tensor;
    const loss = F.crossEntropy(outputs, labels, { labelSmoothing: hyp.labelSmoothing, reduction: "none" }).sum();
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    scheduler.step();
    step++;
    if (step % 5 === 0) lookahead(0.95 ** 5 * (step / totalSteps) ** 3);
    if (step === totalSteps) lookahead(1);
    trainLoss = loss.item() / batchSize;
    trainAcc = outputs.argmax(1).eq(labels).float().mean().item();
  }
  seconds += (performance.now() - t0) / 1000;
  const last = step === totalSteps;
  const cols = [String(epoch + 1).padStart(5), trainLoss.toFixed(4).padStart(10), trainAcc.toFixed(4).padStart(9), evaluate(false).toFixed(4).padStart(7)];
  console.log(`${cols.join("  ")}  ${(last ? evaluate(true).toFixed(4) : "").padStart(11)}  ${seconds.toFixed(1).padStart(7)}`);
}
