import FileIO
import Foundation
import NN
import Torch

/// Writing a decoder-only model as a Hugging Face folder (after fine-tuning or merging adapters).
public enum CausalLMExport {
  /// Files of a model folder that describe it rather than hold its weights, copied along.
  static let companions = [
    "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
    "chat_template.jinja", "vocab.json", "merges.txt", "tokenizer.model"
  ]

  /// Writes `model.safetensors` (the model's state dict, atomically) and copies `configFrom`'s config, generation
  /// config, tokenizer and chat template files, setting `torch_dtype` to the weights' dtype.
  public static func save(_ model: any CausalLanguageModel, to directory: String, configFrom source: String) throws {
    let fm = FileManager.default
    try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for name in companions where fm.fileExists(atPath: source + "/" + name) && source != directory {
      let data = try Data(contentsOf: URL(fileURLWithPath: source + "/" + name))
      if name == "config.json", var obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] {
        obj["torch_dtype"] = model.dtype.description.replacingOccurrences(of: "torch.", with: "")
        obj.removeValue(forKey: "dtype")
        let out = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(out, to: directory + "/config.json")
      } else {
        try AtomicFile.write(data, to: directory + "/" + name)
      }
    }
    let tensors = try model.stateDict().mapValues { try $0.detach().contiguous() }
    try Torch.saveSafetensors(tensors, to: directory + "/model.safetensors", metadata: ["format": "pt"])
  }
}
