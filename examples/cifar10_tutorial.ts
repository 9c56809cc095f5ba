// PyTorch's "Training a Classifier" (CIFAR-10) tutorial, line for line, with kindling.
//   npm run build && node dist/examples/cifar10_tutorial.js      (or: npx tsx examples/cifar10_tutorial.ts)
// Data: $KINDLING_DATA or ./data (cifar-10-batches-py/ or -bin/; downloaded when missing and online).
// Knobs for quick runs (defaults are the tutorial's): TUTORIAL_EPOCHS, TUTORIAL_LOG_EVERY, TUTORIAL_OUT.
import * as torch from "kindling";
import { datasets, transforms, utils } from "kindling/vision";
import { join } from "node:path";

const root = process.env.KINDLING_DATA ?? "./data";
const epochs = Number(process.env.TUTORIAL_EPOCHS ?? 2);
const logEvery = Number(process.env.TUTORIAL_LOG_EVERY ?? 2000);
const out = process.env.TUTORIAL_OUT ?? ".";

// 1. Load and normalize CIFAR10
const transform = new transforms.Compose([
  new transforms.ToTensor(),
  new transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]),
]);

const trainset = new datasets.CIFAR10({ root, train: true, download: true, transform });
const trainloader = new torch.utils.data.DataLoader(trainset, { batchSize: 4, shuffle: true, numWorkers: 2 });

const testset = new datasets.CIFAR10({ root, train: false, download: true, transform });
const testloader = new torch.utils.data.DataLoader(testset, { batchSize: 4, shuffle: false, numWorkers: 2 });

const classes = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

// functions to show an image
function imshow(img: torch.Tensor, file: string): void {
  img = img.div(2).add(0.5); // unnormalize
  console.log(`(image written to ${utils.imshow(img, join(out, file))})`);
}

// get some random training images
let dataiter = trainloader[Symbol.iterator]();
let [images, labels] = dataiter.next().value;

// show images
imshow(utils.makeGrid(images), "train_batch.png");
// print labels
console.log([0, 1, 2, 3].map((j) => classes[labels.at(j).item()].padStart(5)).join(" "));
dataiter.return?.();

// 2. Define a Convolutional Neural Network
const { nn } = torch;
const F = nn.functional;

class Net extends nn.Module {
  conv1 = new nn.Conv2d(3, 6, 5);
  pool = new nn.MaxPool2d(2, 2);
  conv2 = new nn.Conv2d(6, 16, 5);
  fc1 = new nn.Linear(16 * 5 * 5, 120);
  fc2 = new nn.Linear(120, 84);
  fc3 = new nn.Linear(84, 10);

  forward(x: torch.Tensor): torch.Tensor {
    x = this.pool.forward(F.relu(this.conv1.forward(x)));
    x = this.pool.forward(F.relu(this.conv2.forward(x)));
    x = x.view(-1, 16 * 5 * 5);
    x = F.relu(this.fc1.forward(x));
    x = F.relu(this.fc2.forward(x));
    x = this.fc3.forward(x);
    return x;
  }
}

const net = new Net();

// 3. Define a Loss function and optimizer
const criterion = new nn.CrossEntropyLoss();
const optimizer = new torch.optim.SGD(net.parameters(), { lr: 0.001, momentum: 0.9 });

// 4. Train the network
for (let epoch = 0; epoch < epochs; epoch++) { // loop over the dataset multiple times
  let runningLoss = 0.0;
  let i = 0;
  for (const data of trainloader) {
    // get the inputs
    const [inputs, labels] = data;

    // zero the parameter gradients
    optimizer.zeroGrad();

    // forward + backward + optimize
    const outputs = net.forward(inputs);
    const loss = criterion.forward(outputs, labels);
    loss.backward();
    optimizer.step();

    // print statistics
    runningLoss += loss.item();
    if (i % logEvery === logEvery - 1) { // print every 2000 mini-batches
      console.log(`[${epoch + 1}, ${String(i + 1).padStart(5)}] loss: ${(runningLoss / logEvery).toFixed(3)}`);
      runningLoss = 0.0;
    }
    i++;
  }
}

console.log("Finished Training");

// 5. Test the network on the test data
dataiter = testloader[Symbol.iterator]();
[images, labels] = dataiter.next().value;
dataiter.return?.();

// print images
imshow(utils.makeGrid(images), "test_batch.png");
console.log("GroundTruth: ", [0, 1, 2, 3].map((j) => classes[labels.at(j).item()].padStart(5)).join(" "));

let outputs = net.forward(images);

let [, predicted] = torch.max(outputs, 1);

console.log("Predicted: ", [0, 1, 2, 3].map((j) => classes[predicted.at(j).item()].padStart(5)).join(" "));

let correct = 0;
let total = 0;
torch.noGrad(() => {
  for (const data of testloader) {
    const [images, labels] = data;
    const outputs = net.forward(images);
    const [, predicted] = torch.max(outputs.data, 1);
    total += labels.size(0);
    correct += predicted.eq(labels).sum().item();
  }
});

console.log(`Accuracy of the network on the 10000 test images: ${Math.floor((100 * correct) / total)} %`);

const classCorrect = classes.map(() => 0.0);
const classTotal = classes.map(() => 0.0);
torch.noGrad(() => {
  for (const data of testloader) {
    const [images, labels] = data;
    const outputs = net.forward(images);
    const [, predicted] = torch.max(outputs, 1);
    const c = predicted.eq(labels).squeeze();
    for (let i = 0; i < labels.size(0); i++) {
      const label = labels.at(i).item();
      classCorrect[label] += c.at(i).item();
      classTotal[label] += 1;
    }
  }
});

for (let i = 0; i < 10; i++) {
  console.log(`Accuracy of ${classes[i].padStart(5)} : ${String(Math.floor((100 * classCorrect[i]) / classTotal[i])).padStart(2)} %`);
}

// Training on GPU
const device = torch.cuda.isAvailable() ? "cuda:0" : "cpu";

// Assuming that we are on a CUDA machine, this should print a CUDA device:
console.log(device);

net.to(device);
[images, labels] = [images.to(device), labels.to(device)];
outputs = net.forward(images);
[, predicted] = torch.max(outputs, 1);
