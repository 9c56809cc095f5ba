// Tensor API types a user meets first (compiled only; see tsconfig.json here).
import * as torch from "kindling";

const x = torch.ones([2, 3]);
const n: number = x.sum().item();
const b: boolean = x.gt(0).all().item<boolean>();
const shape: readonly number[] = x.shape;
const moved: torch.Tensor = x.to("cpu", { nonBlocking: true });
const cast: torch.Tensor = x.to("cpu", torch.float64, { copy: true });
const picked: torch.Tensor = torch.where(x.gt(0), 1.0, x);
const viaTensor: torch.Tensor = x.to(torch.zeros([1], { dtype: torch.int64 }));
const big = torch.tensor([3n, 4n]);
const grads: Promise<torch.Tensor> = torch.noGrad(async () => x.mul(2));
const grads2: Promise<torch.Tensor> = torch.noGradAsync(() => Promise.resolve(x));

// @ts-expect-error nonBlocking is a boolean
x.to("cpu", { nonBlocking: "yes" });
// @ts-expect-error PyTorch's snake_case keyword is spelt nonBlocking here
x.to("cpu", { non_blocking: true });
// @ts-expect-error item() is a number unless asked for a boolean
const s: string = x.sum().item();

export { n, b, shape, moved, cast, picked, viaTensor, big, grads, grads2, s };
