import CTorch

/// Element type of a tensor. Raw values are libtorch's `c10::ScalarType` codes.
public enum DType: Int32, CaseIterable, CustomStringConvertible, Sendable {
  case uint8 = 0
  case int8 = 1
  case int16 = 2
  case int32 = 3
  case int64 = 4
  case float16 = 5
  case float32 = 6
  case float64 = 7
  case bool = 11
  case bfloat16 = 15

  /// Decodes a libtorch scalar-type code, failing for types TorchSwift does not expose (complex, quantized).
  public init(code: Int32) throws {
    guard let d = DType(rawValue: code) else {
      throw TorchError("unsupported libtorch scalar type code \(code) (complex and quantized types are not exposed)")
    }
    self = d
  }

  /// Bytes per element.
  public var byteSize: Int {
    switch self {
    case .uint8, .int8, .bool: return 1
    case .int16, .float16, .bfloat16: return 2
    case .int32, .float32: return 4
    case .int64, .float64: return 8
    }
  }

  public var isFloatingPoint: Bool {
    switch self {
    case .float16, .float32, .float64, .bfloat16: return true
    default: return false
    }
  }

  /// PyTorch's name: `torch.float32`.
  public var description: String {
    switch self {
    case .uint8: return "torch.uint8"
    case .int8: return "torch.int8"
    case .int16: return "torch.int16"
    case .int32: return "torch.int32"
    case .int64: return "torch.int64"
    case .float16: return "torch.float16"
    case .float32: return "torch.float32"
    case .float64: return "torch.float64"
    case .bool: return "torch.bool"
    case .bfloat16: return "torch.bfloat16"
    }
  }

  /// Parses "float32", "fp16", "bf16", "torch.int64", ...
  public init?(name: String) {
    var n = name.lowercased()
    if n.hasPrefix("torch.") { n.removeFirst(6) }
    switch n {
    case "uint8", "u8": self = .uint8
    case "int8", "i8": self = .int8
    case "int16", "short", "i16": self = .int16
    case "int32", "int", "i32": self = .int32
    case "int64", "long", "i64": self = .int64
    case "float16", "half", "fp16", "f16": self = .float16
    case "float32", "float", "fp32", "f32": self = .float32
    case "float64", "double", "fp64", "f64": self = .float64
    case "bool": self = .bool
    case "bfloat16", "bf16": self = .bfloat16
    default: return nil
    }
  }
}

/// Memory layout request, as `torch.memory_format`.
public enum MemoryFormat: Int32, Sendable {
  case contiguous = 0
  case preserve = 1
  case channelsLast = 2
  case channelsLast3d = 3
}
