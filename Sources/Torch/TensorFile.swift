import CTorch
import FileIO

#if canImport(Glibc)
  import Glibc
#endif

extension Torch {
  /// Loads a dict of tensors written by Python's `torch.save({name: tensor, ...}, path)`.
  public static func load(_ path: String) throws -> [String: Tensor] {
    var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
    var tensors: UnsafeMutablePointer<ts_tensor?>? = nil
    var count: Int64 = 0
    try check(ts_load_tensor_dict(path, &names, &tensors, &count))
    defer {
      for i in 0..<Int(count) { ts_free(names?[i]) }
      ts_free(names)
    }
    var result: [String: Tensor] = [:]
    let list = Tensor.takeList(tensors, count: count)
    for i in 0..<Int(count) { result[String(cString: names![i]!)] = list[i] }
    return result
  }

  /// Saves tensors so that Python's `torch.load(path)` returns the same dict (written atomically).
  public static func save(_ tensors: [String: Tensor], to path: String) throws {
    let keys = tensors.keys.sorted()
    let handles: [ts_tensor?] = keys.map { tensors[$0]!.handle }
    var cNames = keys.map { strdup($0) }
    defer { cNames.forEach { free($0) } }
    var data: UnsafeMutablePointer<CChar>? = nil
    var size: Int64 = 0
    try withExtendedLifetime(tensors) {
      try cNames.withUnsafeMutableBufferPointer { buf in
        try buf.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: keys.count) { p in
          try check(ts_pickle_tensor_dict(p, handles, Int64(keys.count), &data, &size))
        }
      }
    }
    defer { ts_free(data) }
    try AtomicFile.write(to: path) { sink in
      try sink.append(UnsafeRawBufferPointer(start: data, count: Int(size)))
    }
  }
}
