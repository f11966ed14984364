import CTorch

/// One index in a subscript: an integer, a slice, `.all` (`:`), `.ellipsis` (`...`), `.newAxis` (`None`),
/// an integer index tensor or a boolean mask tensor — the same rules as PyTorch's indexing.
public enum TensorIndex {
  case index(Int)
  case slice(start: Int?, end: Int?, step: Int)
  case all
  case ellipsis
  case newAxis
  case tensor(Tensor)
}

/// Values usable inside `tensor[...]`.
public protocol TensorIndexConvertible { var tensorIndex: TensorIndex { get } }

extension TensorIndex: TensorIndexConvertible { public var tensorIndex: TensorIndex { self } }
extension Int: TensorIndexConvertible { public var tensorIndex: TensorIndex { .index(self) } }
extension Range: TensorIndexConvertible where Bound == Int {
  public var tensorIndex: TensorIndex { .slice(start: lowerBound, end: upperBound, step: 1) }
}
extension ClosedRange: TensorIndexConvertible where Bound == Int {
  public var tensorIndex: TensorIndex {
    .slice(start: lowerBound, end: upperBound == -1 ? nil : upperBound + 1, step: 1)
  }
}
extension PartialRangeFrom: TensorIndexConvertible where Bound == Int {
  public var tensorIndex: TensorIndex { .slice(start: lowerBound, end: nil, step: 1) }
}
extension PartialRangeUpTo: TensorIndexConvertible where Bound == Int {
  public var tensorIndex: TensorIndex { .slice(start: nil, end: upperBound, step: 1) }
}
extension PartialRangeThrough: TensorIndexConvertible where Bound == Int {
  public var tensorIndex: TensorIndex { .slice(start: nil, end: upperBound == -1 ? nil : upperBound + 1, step: 1) }
}
extension Tensor: TensorIndexConvertible { public var tensorIndex: TensorIndex { .tensor(self) } }

extension Tensor {
  /// `tensor[i, 1..<3, .all, mask]`; stops with libtorch's message on a bad index (use `index(_:)` to catch it).
  public subscript(_ indices: TensorIndexConvertible...) -> Tensor {
    get { trapping { try index(indices.map(\.tensorIndex)) } }
    set { trapping { try indexPut(indices.map(\.tensorIndex), newValue) } }
  }

  /// Indexing with PyTorch's semantics; throws libtorch's error (e.g. index out of range).
  public func index(_ indices: [TensorIndex]) throws -> Tensor {
    let (view, advanced) = try applyBasic(indices)
    guard let advanced else { return view }
    return try ATen.index_Tensor(view, indices: advanced)
  }

  /// Assigns `value` (broadcast) to the indexed elements, in place.
  public func indexPut(_ indices: [TensorIndex], _ value: Tensor) throws {
    let (view, advanced) = try applyBasic(indices)
    if let advanced {
      _ = try ATen.index_put_(view, indices: advanced, values: value)
    } else {
      try view.copy_(value)
    }
  }

  /// Assigns a scalar to the indexed elements, in place.
  public func indexPut(_ indices: [TensorIndex], _ value: Scalar) throws {
    let (view, advanced) = try applyBasic(indices)
    if let advanced {
      let v = try Tensor.full([], value, dtype: dtype, device: device)
      _ = try ATen.index_put_(view, indices: advanced, values: v)
    } else {
      try view.fill_(value)
    }
  }

  /// Applies integers, slices, `.newAxis` and `.ellipsis` as views; returns the advanced (tensor) indices
  /// aligned to the view's dimensions, or nil when there are none.
  private func applyBasic(_ indices: [TensorIndex]) throws -> (Tensor, [Tensor?]?) {
    let consumed = indices.reduce(0) { n, idx in
      switch idx {
      case .index, .slice, .all: return n + 1
      case .tensor(let t): return n + (t.dtype == .bool || t.dtype == .uint8 ? Swift.max(t.dim, 1) : 1)
      case .ellipsis, .newAxis: return n
      }
    }
    let rank = dim
    guard consumed <= rank else {
      throw TorchError("too many indices for tensor of dimension \(rank)")
    }
    guard indices.filter({ if case .ellipsis = $0 { return true } else { return false } }).count <= 1 else {
      throw TorchError("an index can only have a single ellipsis ('...')")
    }
    var result = self
    var d = 0
    var advanced: [Tensor?] = []
    var hasAdvanced = false
    for idx in indices {
      switch idx {
      case .index(let i):
        result = try result.select(dim: d, index: i)
      case .slice(let start, let end, let step):
        result = try result.slice(dim: d, start: start, end: end, step: step)
        advanced.append(nil)
        d += 1
      case .all:
        advanced.append(nil)
        d += 1
      case .newAxis:
        result = try result.unsqueeze(d)
        advanced.append(nil)
        d += 1
      case .ellipsis:
        let skip = rank - consumed
        advanced.append(contentsOf: Array(repeating: nil, count: skip))
        d += skip
      case .tensor(let t):
        hasAdvanced = true
        if t.dtype == .bool || t.dtype == .uint8 {
          advanced.append(t)
          d += Swift.max(t.dim, 1)
        } else {
          advanced.append(t)
          d += 1
        }
      }
    }
    if !hasAdvanced { return (result, nil) }
    while let last = advanced.last, last == nil { advanced.removeLast() }
    return (result, advanced)
  }
}
