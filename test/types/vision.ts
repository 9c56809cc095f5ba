// kindling/vision: CIFAR10's samples and the transforms' types follow from the transform given.
import * as torch from "kindling";
import type { Tensor } from "kindling";
import { datasets, transforms } from "kindling/vision";

const transform = new transforms.Compose([new transforms.ToTensor(), new transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5])]);
const asTensor: transforms.Compose<Tensor> = transform;
const trainset = new datasets.CIFAR10({ root: "./data", train: true, transform });
const [image, label]: [Tensor, number] = trainset.get(0);
const loader = new torch.utils.data.DataLoader(trainset, { batchSize: 4 });
for (const [images, labels] of loader) {
  const i: Tensor = images;
  const l: Tensor = labels;
  void [i, l];
}
const normalized: Tensor = new transforms.Normalize([0.5], [0.5]).forward(torch.rand([1, 4, 4]));
const cropped: Tensor = new transforms.RandomCrop(2).forward(torch.rand([3, 4, 4]));
const raw = new datasets.CIFAR10({ root: "./data" }).get(0)[0];
// @ts-expect-error without a transform the image is 8-bit, not a Tensor
const notTensor: Tensor = raw;

export { asTensor, image, label, normalized, cropped, notTensor };
