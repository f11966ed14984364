import CTorch
import Foundation

/// `print(tensor)` output identical to PyTorch's `repr(tensor)` (default print options: precision 4,
/// threshold 1000, edge items 3, line width 80).
extension Tensor: CustomStringConvertible {
  public var description: String {
    do { return try render() } catch { return "tensor(<unprintable: \(error)>)" }
  }

  private func render() throws -> String {
    let prefix = "tensor("
    let indent = prefix.count
    var suffixes: [String] = []
    if device != .cpu { suffixes.append("device='\(device)'") }
    let dt = dtype
    let hasDefaultDType = dt == .float32 || dt == .int64 || dt == .bool
    var body: String
    if numel == 0 {
      if dim != 1 { suffixes.append("size=\(pythonTuple(shape))") }
      if !hasDefaultDType { suffixes.append("dtype=\(dt)") }
      body = "[]"
    } else {
      body = try TensorPrinter(self).render(indent: indent)
      if !hasDefaultDType { suffixes.append("dtype=\(dt)") }
    }
    if let fn = gradFnName {
      suffixes.append("grad_fn=<\(fn)>")
    } else if requiresGrad {
      suffixes.append("requires_grad=True")
    }
    var s = prefix + body
    let chars = Array(s)
    var lastLineLen = chars.count - (chars.lastIndex(of: "\n") ?? -1) + 1
    for suffix in suffixes {
      if lastLineLen + suffix.count + 2 > 80 {
        s += ",\n" + String(repeating: " ", count: indent) + suffix
        lastLineLen = indent + suffix.count
      } else {
        s += ", " + suffix
        lastLineLen += suffix.count + 2
      }
    }
    return s + ")"
  }
}

func pythonTuple(_ xs: [Int]) -> String {
  xs.count == 1 ? "(\(xs[0]),)" : "(" + xs.map(String.init).joined(separator: ", ") + ")"
}

/// PyTorch's `_tensor_str` with its `_Formatter`.
struct TensorPrinter {
  let shape: [Int]
  let kind: Kind
  let summarize: Bool
  let edge = 3
  enum Kind { case float([Double]), int([Int64]), bool([Bool]) }

  init(_ t: Tensor) throws {
    shape = t.shape
    summarize = t.numel > 1000
    let flat = try t.detach().reshape([-1])
    switch t.dtype {
    case .bool: kind = .bool(try flat.toArray(Bool.self))
    case .float16, .float32, .float64, .bfloat16: kind = .float(try flat.toArray(Double.self))
    default: kind = .int(try flat.toArray(Int64.self))
    }
  }

  /// Row-major flat indices of the elements shown (all, or the summarised edges).
  private func shownIndices() -> [Int] {
    var result: [Int] = []
    var strides = [Int](repeating: 1, count: shape.count)
    for d in stride(from: shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
    func walk(_ d: Int, _ base: Int) {
      if d == shape.count { result.append(base); return }
      for i in indices(shape[d]) { walk(d + 1, base + i * strides[d]) }
    }
    walk(0, 0)
    return result
  }

  private func indices(_ n: Int) -> [Int] {
    if summarize && n > 2 * edge { return Array(0..<edge) + Array((n - edge)..<n) }
    return Array(0..<n)
  }

  func render(indent: Int) throws -> String {
    let fmt = Formatter(kind: kind, shown: shownIndices())
    var strides = [Int](repeating: 1, count: shape.count)
    for d in stride(from: shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
    func str(_ d: Int, _ base: Int, _ indent: Int) -> String {
      if d == shape.count { return fmt.format(base) }
      let n = shape[d]
      let cut = summarize && n > 2 * edge
      if d == shape.count - 1 {
        var elems = (cut ? Array(0..<edge) : Array(0..<n)).map { fmt.format(base + $0 * strides[d]) }
        if cut { elems.append(" ..."); elems += ((n - edge)..<n).map { fmt.format(base + $0 * strides[d]) } }
        let elementLength = fmt.width + 2
        let perLine = Swift.max(1, (80 - indent) / elementLength)
        var lines: [String] = []
        var i = 0
        while i < elems.count {
          lines.append(elems[i..<Swift.min(i + perLine, elems.count)].joined(separator: ", "))
          i += perLine
        }
        return "[" + lines.joined(separator: ",\n" + String(repeating: " ", count: indent + 1)) + "]"
      }
      var slices = (cut ? Array(0..<edge) : Array(0..<n)).map { str(d + 1, base + $0 * strides[d], indent + 1) }
      if cut { slices.append("..."); slices += ((n - edge)..<n).map { str(d + 1, base + $0 * strides[d], indent + 1) } }
      let sep = "," + String(repeating: "\n", count: shape.count - d - 1) + String(repeating: " ", count: indent + 1)
      return "[" + slices.joined(separator: sep) + "]"
    }
    if shape.isEmpty { return fmt.format(0, pad: false) }
    return str(0, 0, indent)
  }

  struct Formatter {
    let kind: Kind
    var intMode = true
    var sciMode = false
    var width = 1

    init(kind: Kind, shown: [Int]) {
      self.kind = kind
      switch kind {
      case .bool(let v): width = shown.map { v[$0] ? 4 : 5 }.max() ?? 1
      case .int(let v): width = shown.map { String(v[$0]).count }.max() ?? 1
      case .float(let v):
        let vals = shown.map { v[$0] }.filter { $0.isFinite && $0 != 0 }
        if vals.isEmpty { return }
        let absVals = vals.map { Swift.abs($0) }
        let lo = absVals.min()!, hi = absVals.max()!
        intMode = vals.allSatisfy { $0 == $0.rounded(.up) }
        if intMode {
          if hi / lo > 1000 || hi > 1e8 {
            sciMode = true
            width = vals.map { String(format: "%.4e", $0).count }.max()!
          } else {
            width = vals.map { String(format: "%.0f", $0).count + 1 }.max()!
          }
        } else if hi / lo > 1000 || hi > 1e8 || lo < 1e-4 {
          sciMode = true
          width = vals.map { String(format: "%.4e", $0).count }.max()!
        } else {
          width = vals.map { String(format: "%.4f", $0).count }.max()!
        }
      }
    }

    func format(_ i: Int, pad: Bool = true) -> String {
      var s: String
      switch kind {
      case .bool(let v): s = v[i] ? "True" : "False"
      case .int(let v): s = String(v[i])
      case .float(let v):
        let x = v[i]
        if sciMode {
          s = x.isFinite ? String(format: "%.4e", x) : pyNonFinite(x)
        } else if intMode {
          s = x.isFinite ? String(format: "%.0f", x) + "." : pyNonFinite(x)
        } else {
          s = x.isFinite ? String(format: "%.4f", x) : pyNonFinite(x)
        }
      }
      if pad && s.count < width { s = String(repeating: " ", count: width - s.count) + s }
      return s
    }

    private func pyNonFinite(_ x: Double) -> String { x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
  }
}
