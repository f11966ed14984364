import NN
import Torch

// A tiny program of its own on TorchSwift: a linear layer, a loss and its gradient.
let layer = try Linear(inFeatures: 3, outFeatures: 2)
let x = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
let y = try layer(x)
let loss = try (y * y).mean()
try loss.backward()
print("consumer: libtorch \(Torch.builtVersion), output \(y.shape), weight gradient \(layer.weight.grad!.shape)")
