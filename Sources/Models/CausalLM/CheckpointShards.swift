import Foundation
import SafeTensors

/// The safetensors files of a Hugging Face model folder: `model.safetensors`, or the shards named by
/// `model.safetensors.index.json` (`weight_map`: tensor name → shard file). Opens each file once (memory-mapped)
/// and says which file holds a tensor; every problem names the folder, the file and the tensor.
public final class CheckpointShards {
  public let directory: String
  /// Tensor name → the file holding it.
  public private(set) var location: [String: SafeTensorsFile] = [:]
  public private(set) var files: [SafeTensorsFile] = []

  public init(directory: String) throws {
    self.directory = directory
    let single = directory + "/model.safetensors"
    let index = directory + "/model.safetensors.index.json"
    let fm = FileManager.default
    if fm.fileExists(atPath: single) {
      let file = try SafeTensorsFile(path: single)
      files = [file]
      for name in file.names { location[name] = file }
    } else if fm.fileExists(atPath: index) {
      guard let data = fm.contents(atPath: index),
        let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
        let map = obj["weight_map"] as? [String: String]
      else {
        throw ModelConfigError("\(index): not a safetensors index (a JSON object with a weight_map is expected)")
      }
      var opened: [String: SafeTensorsFile] = [:]
      for shard in Set(map.values).sorted() {
        guard !shard.contains("/"), !shard.hasPrefix(".") else {
          throw ModelConfigError("\(index): shard name '\(shard)' must be a file name inside the folder")
        }
        let path = directory + "/" + shard
        guard fm.fileExists(atPath: path) else {
          throw ModelConfigError("\(index) lists shard '\(shard)', which is missing from \(directory)")
        }
        let file = try SafeTensorsFile(path: path)
        opened[shard] = file
        files.append(file)
      }
      for (name, shard) in map {
        guard let file = opened[shard], file.contains(name) else {
          throw ModelConfigError("\(index): tensor '\(name)' is mapped to '\(shard)', which does not hold it")
        }
        location[name] = file
      }
    } else if fm.fileExists(atPath: directory + "/pytorch_model.bin") {
      throw ModelConfigError(
        "\(directory) holds pytorch_model.bin only: TorchSwift loads decoder-only models from safetensors "
          + "(save with `model.save_pretrained(dir, safe_serialization=True)`)")
    } else {
      throw ModelConfigError(
        "no model weights in '\(directory)': expected model.safetensors or model.safetensors.index.json with its shards"
      )
    }
  }

  /// Total bytes of tensor data across the files.
  public var tensorBytes: Int {
    files.reduce(0) { total, f in total + f.names.reduce(0) { $0 + ((try? f.info($1).byteCount) ?? 0) } }
  }
}
