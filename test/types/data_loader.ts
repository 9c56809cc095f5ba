// DataLoader<T, B> infers its batches from the dataset and the collate function.
import * as torch from "kindling";
import type { Tensor } from "kindling";

const { DataLoader, Dataset, TensorDataset } = torch.utils.data;

class Pairs extends Dataset<[Tensor, number]> {
  get length(): number {
    return 8;
  }
  get(i: number): [Tensor, number] {
    return [torch.ones([3]), i % 2];
  }
}

const loader = new DataLoader(new Pairs(), { batchSize: 4, shuffle: true, numWorkers: 2 });
for (const [images, labels] of loader) {
  const a: Tensor = images;
  const l: Tensor = labels;
  void [a, l];
  // @ts-expect-error a collated batch of labels is a Tensor, not a number
  labels.toFixed(2);
}
// @ts-expect-error a batch of [image, label] samples has two parts
for (const [, , third] of loader) void third;

const counted = new DataLoader(new Pairs(), { batchSize: 4, collateFn: (samples) => samples.length });
for (const n of counted) {
  const k: number = n;
  void k;
}

const unbatched = new DataLoader(new Pairs(), { batchSize: null });
for (const [image, label] of unbatched) {
  const i: Tensor = image;
  const l: number = label;
  void [i, l];
}

const tensors = new DataLoader(new TensorDataset(torch.randn([10, 2]), torch.zeros([10])), { batchSize: 5 });
for (const batch of tensors) {
  const parts: Tensor[] = batch;
  void parts;
}

async function evaluate(): Promise<void> {
  await torch.noGrad(async () => {
    for await (const [x] of loader) x.sum();
  });
}

// @ts-expect-error options are camelCase: batchSize
new DataLoader(new Pairs(), { batchsize: 4 });
// @ts-expect-error numWorkers is a number
new DataLoader(new Pairs(), { numWorkers: "2" });
// @ts-expect-error collateFn receives the dataset's samples
new DataLoader(new Pairs(), { collateFn: (samples: string[]) => samples.join() });

export { evaluate };
