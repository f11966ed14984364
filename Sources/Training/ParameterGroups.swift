import NN
import Torch

/// Splits a module's parameters into the usual two AdamW groups of a fine-tuning recipe: weights of 2+
/// dimensions (with weight decay), and biases, LayerNorm weights and other 1-D parameters (without).
public func decayAndNoDecayParameters(_ module: Module) -> (decay: [Tensor], noDecay: [Tensor]) {
  var decay: [Tensor] = []
  var noDecay: [Tensor] = []
  for (_, p) in module.namedParameters() where p.requiresGrad {
    if p.dim >= 2 { decay.append(p) } else { noDecay.append(p) }
  }
  return (decay, noDecay)
}
