import Foundation

/// How a scalar is stored inside a `Summary.Value`.
public enum ScalarEncoding: Sendable, Equatable {
  /// The classic `simple_value` float (field 2); read as a scalar by every TensorBoard loader,
  /// including `event_accumulator.EventAccumulator.Scalars`.
  case simpleValue
  /// The newer form: summary metadata with plugin `"scalars"` and a rank-0 `DT_FLOAT` tensor
  /// (what `tf.summary.scalar` in TF 2 and PyTorch's `new_style=True` write).
  case tensor
}

/// One scalar summary value decoded from or encoded to an event.
public struct ScalarValue: Equatable, Sendable {
  public var tag: String
  public var value: Float
  public var encoding: ScalarEncoding

  public init(tag: String, value: Float, encoding: ScalarEncoding = .simpleValue) {
    self.tag = tag
    self.value = value
    self.encoding = encoding
  }
}

/// The subset of `tensorflow.Event` (tensorflow/core/util/event.proto) that TorchSwift writes and reads.
public struct EventRecord: Equatable, Sendable {
  /// Seconds since the Unix epoch (field 1, double).
  public var wallTime: Double
  /// Global step (field 2, int64).
  public var step: Int64
  /// `file_version` (field 3), set only on the first record of a file: `"brain.Event:2"`.
  public var fileVersion: String?
  /// Scalar values of the `summary` (field 5); non-scalar values are skipped when decoding.
  public var scalars: [ScalarValue]

  public init(wallTime: Double, step: Int64, fileVersion: String? = nil, scalars: [ScalarValue] = []) {
    self.wallTime = wallTime
    self.step = step
    self.fileVersion = fileVersion
    self.scalars = scalars
  }
}

enum EventFields {
  static let wallTime = 1, step = 2, fileVersion = 3, summary = 5
  static let summaryValue = 1
  static let valueTag = 1, valueSimpleValue = 2, valueTensor = 8, valueMetadata = 9
  static let metadataPluginData = 1, metadataDataClass = 4
  static let pluginName = 1, pluginContent = 2
  static let tensorDtype = 1, tensorShape = 2, tensorContent = 4, tensorFloatVal = 5, tensorDoubleVal = 6
  static let dtFloat: UInt64 = 1, dtDouble: UInt64 = 2
  static let dataClassScalar: UInt64 = 1
  static let scalarsPlugin = "scalars"
}

extension EventRecord {
  /// The protobuf encoding of this event.
  public func encoded() -> [UInt8] {
    var w = ProtoWriter()
    w.writeDouble(EventFields.wallTime, wallTime)
    if step != 0 { w.writeInt64(EventFields.step, step) }
    if let fileVersion { w.writeString(EventFields.fileVersion, fileVersion) }
    if !scalars.isEmpty {
      w.writeMessage(EventFields.summary) { summary in
        for scalar in scalars {
          summary.writeMessage(EventFields.summaryValue) { scalar.encode(into: &$0) }
        }
      }
    }
    return w.bytes
  }

  /// Decodes an event, keeping its scalar values (both encodings) and ignoring other fields.
  public init(decoding bytes: ArraySlice<UInt8>) throws {
    self.init(wallTime: 0, step: 0)
    var reader = ProtoReader(bytes)
    while let field = try reader.next() {
      switch field {
      case .fixed64(EventFields.wallTime, let bits): wallTime = Double(bitPattern: bits)
      case .varint(EventFields.step, let raw): step = Int64(bitPattern: raw)
      case .bytes(EventFields.fileVersion, let data): fileVersion = String(decoding: data, as: UTF8.self)
      case .bytes(EventFields.summary, let data): scalars += try ScalarValue.decodeSummary(data)
      default: continue
      }
    }
  }
}

extension ScalarValue {
  func encode(into w: inout ProtoWriter) {
    w.writeString(EventFields.valueTag, tag)
    switch encoding {
    case .simpleValue:
      w.writeFloat(EventFields.valueSimpleValue, value)
    case .tensor:
      w.writeMessage(EventFields.valueMetadata) { meta in
        meta.writeMessage(EventFields.metadataPluginData) { plugin in
          plugin.writeString(EventFields.pluginName, EventFields.scalarsPlugin)
        }
        meta.writeKey(EventFields.metadataDataClass, .varint)
        meta.writeVarint(EventFields.dataClassScalar)
      }
      w.writeMessage(EventFields.valueTensor) { tensor in
        tensor.writeKey(EventFields.tensorDtype, .varint)
        tensor.writeVarint(EventFields.dtFloat)
        tensor.writeBytes(EventFields.tensorShape, [UInt8]())  // rank 0
        tensor.writeFloat(EventFields.tensorFloatVal, value)
      }
    }
  }

  /// Decodes the scalar values of a `Summary` message.
  static func decodeSummary(_ bytes: ArraySlice<UInt8>) throws -> [ScalarValue] {
    var out: [ScalarValue] = []
    var reader = ProtoReader(bytes)
    while let field = try reader.next() {
      if case .bytes(EventFields.summaryValue, let data) = field, let scalar = try decodeValue(data) {
        out.append(scalar)
      }
    }
    return out
  }

  /// Decodes one `Summary.Value`; nil when it is not a scalar.
  private static func decodeValue(_ bytes: ArraySlice<UInt8>) throws -> ScalarValue? {
    var tag = ""
    var simple: Float?
    var tensorValue: Float?
    var pluginName: String?
    var reader = ProtoReader(bytes)
    while let field = try reader.next() {
      switch field {
      case .bytes(EventFields.valueTag, let data): tag = String(decoding: data, as: UTF8.self)
      case .fixed32(EventFields.valueSimpleValue, let bits): simple = Float(bitPattern: bits)
      case .bytes(EventFields.valueMetadata, let data): pluginName = try decodePluginName(data) ?? pluginName
      case .bytes(EventFields.valueTensor, let data): tensorValue = try decodeScalarTensor(data)
      default: continue
      }
    }
    if let simple { return ScalarValue(tag: tag, value: simple, encoding: .simpleValue) }
    if let tensorValue, pluginName == nil || pluginName == EventFields.scalarsPlugin {
      return ScalarValue(tag: tag, value: tensorValue, encoding: .tensor)
    }
    return nil
  }

  private static func decodePluginName(_ bytes: ArraySlice<UInt8>) throws -> String? {
    var reader = ProtoReader(bytes)
    while let field = try reader.next() {
      guard case .bytes(EventFields.metadataPluginData, let plugin) = field else { continue }
      var inner = ProtoReader(plugin)
      while let f = try inner.next() {
        if case .bytes(EventFields.pluginName, let name) = f { return String(decoding: name, as: UTF8.self) }
      }
    }
    return nil
  }

  /// The single element of a float or double tensor with one element; nil otherwise.
  private static func decodeScalarTensor(_ bytes: ArraySlice<UInt8>) throws -> Float? {
    var dtype: UInt64 = 0
    var floats: [Float] = []
    var doubles: [Double] = []
    var content: ArraySlice<UInt8>?
    var reader = ProtoReader(bytes)
    while let field = try reader.next() {
      switch field {
      case .varint(EventFields.tensorDtype, let v): dtype = v
      case .bytes(EventFields.tensorContent, let data): content = data
      case .fixed32(EventFields.tensorFloatVal, let bits): floats.append(Float(bitPattern: bits))
      case .fixed64(EventFields.tensorDoubleVal, let bits): doubles.append(Double(bitPattern: bits))
      case .bytes(EventFields.tensorFloatVal, let packed):
        floats += littleEndianWords(packed, size: 4).map { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }
      case .bytes(EventFields.tensorDoubleVal, let packed):
        doubles += littleEndianWords(packed, size: 8).map { Double(bitPattern: $0) }
      default: continue
      }
    }
    if let content {
      if dtype == EventFields.dtFloat, content.count == 4 {
        return littleEndianWords(content, size: 4).first.map { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) }
      }
      if dtype == EventFields.dtDouble, content.count == 8 {
        return littleEndianWords(content, size: 8).first.map { Float(Double(bitPattern: $0)) }
      }
      return nil
    }
    if dtype == EventFields.dtFloat, floats.count == 1 { return floats[0] }
    if dtype == EventFields.dtDouble, doubles.count == 1 { return Float(doubles[0]) }
    return nil
  }

  private static func littleEndianWords(_ bytes: ArraySlice<UInt8>, size: Int) -> [UInt64] {
    var out: [UInt64] = []
    var i = bytes.startIndex
    while bytes.endIndex - i >= size {
      var v: UInt64 = 0
      for k in 0..<size { v |= UInt64(bytes[i + k]) << UInt64(8 * k) }
      out.append(v)
      i += size
    }
    return out
  }
}
