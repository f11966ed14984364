import CTorch

/// A number passed to or returned by an operator (`torch.Scalar`): floating, integer or boolean.
public enum Scalar: Equatable, CustomStringConvertible, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
  ExpressibleByBooleanLiteral, Sendable
{
  case double(Double)
  case int(Int)
  case bool(Bool)

  public init(integerLiteral value: Int) { self = .int(value) }
  public init(floatLiteral value: Double) { self = .double(value) }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(_ v: Double) { self = .double(v) }
  public init(_ v: Float) { self = .double(Double(v)) }
  public init(_ v: Int) { self = .int(v) }

  @inlinable
  public init(_ s: ts_scalar) {
    switch s.kind {
    case 1: self = .int(Int(s.i))
    case 2: self = .bool(s.i != 0)
    default: self = .double(s.d)
    }
  }

  /// The C representation.
  @inlinable
  public var c: ts_scalar {
    switch self {
    case .double(let d): return ts_scalar(d: d, i: 0, kind: 0)
    case .int(let i): return ts_scalar(d: 0, i: Int64(i), kind: 1)
    case .bool(let b): return ts_scalar(d: 0, i: b ? 1 : 0, kind: 2)
    }
  }

  public var doubleValue: Double {
    switch self {
    case .double(let d): return d
    case .int(let i): return Double(i)
    case .bool(let b): return b ? 1 : 0
    }
  }

  public var intValue: Int {
    switch self {
    case .double(let d): return Int(d)
    case .int(let i): return i
    case .bool(let b): return b ? 1 : 0
    }
  }

  public var description: String {
    switch self {
    case .double(let d): return "\(d)"
    case .int(let i): return "\(i)"
    case .bool(let b): return b ? "True" : "False"
    }
  }
}
