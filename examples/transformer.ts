// A tiny transformer that learns to reverse sequences: token embedding + learned positions, a 2-layer
// nn.TransformerEncoder (batchFirst, pre-norm) and a linear read-out, trained with Adam on fresh random batches.
// Reversal needs attention (every output position reads a different input position), so accuracy far above chance
// (1 / vocab) shows the attention layers learn.
//   npx tsc -p tsconfig.json && node dist/examples/transformer.js      (or: npx tsx examples/transformer.ts)
// Knobs: TRANSFORMER_STEPS (default 300), TRANSFORMER_LOG_EVERY (default 25).
import * as torch from "kindling";
import { pathToFileURL } from "node:url";

const { nn, optim } = torch;
type Tensor = torch.Tensor;

export const VOCAB = 8;
export const SEQ_LEN = 6;

export class Reverser extends nn.Module {
  embed = new nn.Embedding(VOCAB, 32);
  pos = new nn.Parameter(torch.randn(SEQ_LEN, 32).mul(0.1));
  encoder = new nn.TransformerEncoder(
    new nn.TransformerEncoderLayer(32, 4, { dimFeedforward: 64, dropout: 0, batchFirst: true, normFirst: true }),
    2,
    { norm: new nn.LayerNorm(32) },
  );
  head = new nn.Linear(32, VOCAB);

  override forward(tokens: Tensor): Tensor {
    const h = this.encoder.forward(this.embed.forward(tokens).add(this.pos));
    return this.head.forward(h);
  }
}

/** A batch of random sequences and their reversals, (batch, SEQ_LEN) int64 each. */
export function batch(size: number): [Tensor, Tensor] {
  const x = torch.randint(0, VOCAB, [size, SEQ_LEN], { dtype: torch.int64 });
  return [x, x.flip(1)];
}

export interface StepLog {
  step: number;
  loss: number;
  accuracy: number;
}

/** Trains a fresh Reverser for `steps` Adam steps; calls onLog every logEvery steps with the mean loss and accuracy. */
export function train(steps: number, logEvery: number, onLog: (l: StepLog) => void, seed = 0): Reverser {
  torch.manualSeed(seed);
  const model = new Reverser();
  const opt = new optim.Adam(model.parameters(), { lr: 3e-3 });
  const criterion = new nn.CrossEntropyLoss();
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  for (let step = 1; step <= steps; step++) {
    const [x, y] = batch(64);
    const logits = model.forward(x);
    const loss = criterion.forward(logits.reshape([-1, VOCAB]), y.reshape([-1]));
    opt.zeroGrad();
    loss.backward();
    opt.step();
    lossSum += loss.item();
    correct += logits.argmax(-1).eq(y).sum().item();
    count += y.numel();
    if (step % logEvery === 0) {
      onLog({ step, loss: lossSum / logEvery, accuracy: correct / count });
      lossSum = 0;
      correct = 0;
      count = 0;
    }
  }
  return model;
}

function main(): void {
  const steps = Number(process.env.TRANSFORMER_STEPS ?? 300);
  const logEvery = Number(process.env.TRANSFORMER_LOG_EVERY ?? 25);
  const t0 = performance.now();
  const model = train(steps, logEvery, (l) => console.log(`step ${String(l.step).padStart(4)}  loss ${l.loss.toFixed(4)}  accuracy ${(100 * l.accuracy).toFixed(1)} %`));
  model.eval();
  const [x, y] = batch(1000);
  const acc = torch.noGrad(() => model.forward(x).argmax(-1).eq(y).float().mean().item());
  console.log(`held-out accuracy: ${(100 * acc).toFixed(1)} % (chance ${(100 / VOCAB).toFixed(1)} %), ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const [sx] = batch(1);
  const pred = torch.noGrad(() => model.forward(sx).argmax(-1));
  console.log(`input ${JSON.stringify(sx.tolist())} -> ${JSON.stringify(pred.tolist())}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
