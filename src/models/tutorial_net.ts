// The CIFAR-10 tutorial's network (torch tutorial "Training a Classifier"), with PyTorch's parameter names so its
// state dict loads from and into PyTorch checkpoints key for key.

import * as nn from "../nn/index.js";
import type { Tensor } from "../tensor/tensor.js";

const F = nn.F;

export class TutorialNet extends nn.Module {
  declare conv1: nn.Conv2d;
  declare pool: nn.MaxPool2d;
  declare conv2: nn.Conv2d;
  declare fc1: nn.Linear;
  declare fc2: nn.Linear;
  declare fc3: nn.Linear;

  constructor() {
    super();
    this.conv1 = new nn.Conv2d(3, 6, 5);
    this.pool = new nn.MaxPool2d(2, 2);
    this.conv2 = new nn.Conv2d(6, 16, 5);
    this.fc1 = new nn.Linear(16 * 5 * 5, 120);
    this.fc2 = new nn.Linear(120, 84);
    this.fc3 = new nn.Linear(84, 10);
  }

  forward(x: Tensor): Tensor {
    x = this.pool.forward(F.relu(this.conv1.forward(x)));
    x = this.pool.forward(F.relu(this.conv2.forward(x)));
    x = x.view(-1, 16 * 5 * 5);
    x = F.relu(this.fc1.forward(x));
    x = F.relu(this.fc2.forward(x));
    return this.fc3.forward(x);
  }
}

export const CIFAR10_CLASSES = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"] as const;
