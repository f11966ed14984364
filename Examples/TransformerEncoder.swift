// PyTorch's TransformerEncoder example in Swift — copy into an executable target that depends on the
// TorchSwift products "Torch", "NN" and "Optim". (Not compiled by this package; the same program runs as
// `torchswift example transformer`.)
//
//   PyTorch:
//     encoder_layer = nn.TransformerEncoderLayer(d_model=512, nhead=8)
//     transformer_encoder = nn.TransformerEncoder(encoder_layer, num_layers=6)
//     src = torch.rand(10, 32, 512)
//     out = transformer_encoder(src)
import NN
import Optim
import Torch

let encoderLayer = try TransformerEncoderLayer(dModel: 512, nhead: 8)
let transformerEncoder = try TransformerEncoder(encoderLayer: encoderLayer, numLayers: 6)
let src = try Tensor.rand([10, 32, 512])  // [S, B, E]
let out = try transformerEncoder(src)  // [S, B, E]
print("Output shape: \(out.shape)")  // Output shape: [10, 32, 512]

// One training step: MSE against a random target, fused AdamW.
let target = try Tensor.randn([10, 32, 512])
let optimizer = try AdamW(transformerEncoder.parameters(), lr: 1e-4)
try optimizer.zeroGrad()
let loss = try F.mseLoss(try transformerEncoder(src), target)
try loss.backward()
try optimizer.step()
print("loss: \(try loss.item(Double.self))")
