/// Seeded, platform-independent splitting and sub-sampling.
extension TextClassificationDataset {
  /// Splits off `validationFraction` (0 < f < 1) of the examples: the validation size is
  /// `round(f × count)`, clamped to `1...count-1`.
  public func split(validationFraction: Double, seed: UInt64, stratified: Bool = false) throws
    -> (train: TextClassificationDataset, validation: TextClassificationDataset)
  {
    guard validationFraction > 0, validationFraction < 1, validationFraction.isFinite else {
      throw DatasetError.invalidSplit("validation fraction must be in (0, 1), got \(validationFraction)")
    }
    let n = Int((validationFraction * Double(count)).rounded())
    return try split(validationCount: min(max(n, 1), count - 1), seed: seed, stratified: stratified)
  }

  /// Splits off exactly `validationCount` examples (1...count-1), chosen by a SplitMix64
  /// Fisher–Yates shuffle seeded with `seed`. With `stratified`, each label contributes in
  /// proportion to its frequency (largest-remainder rounding, ties to lower label ids).
  /// Both parts keep the original example order.
  public func split(validationCount: Int, seed: UInt64, stratified: Bool = false) throws
    -> (train: TextClassificationDataset, validation: TextClassificationDataset)
  {
    guard validationCount >= 1, validationCount < count else {
      throw DatasetError.invalidSplit(
        "validation count must be in 1...\(count - 1) for \(count) examples, got \(validationCount)")
    }
    var generator = SeededGenerator(seed: seed)
    var chosen: [Int] = []
    if stratified {
      let groups = indicesByLabel()
      let quotas = Self.allocate(validationCount, among: groups.map(\.count))
      for (group, quota) in zip(groups, quotas) where quota > 0 {
        var g = group
        generator.shuffle(&g)
        chosen += g.prefix(quota)
      }
    } else {
      var all = Array(examples.indices)
      generator.shuffle(&all)
      chosen = Array(all.prefix(validationCount))
    }
    var isValidation = [Bool](repeating: false, count: count)
    for i in chosen { isValidation[i] = true }
    let validation = examples.indices.filter { isValidation[$0] }.map { examples[$0] }
    let train = examples.indices.filter { !isValidation[$0] }.map { examples[$0] }
    return (with(train), with(validation))
  }

  /// The first `n` examples (all when `n >= count`).
  public func subset(first n: Int) -> TextClassificationDataset {
    with(Array(examples.prefix(max(n, 0))))
  }

  /// `n` examples drawn without replacement with a seeded shuffle, in original order
  /// (all when `n >= count`).
  public func subset(random n: Int, seed: UInt64) -> TextClassificationDataset {
    guard n < count else { return self }
    var generator = SeededGenerator(seed: seed)
    var all = Array(examples.indices)
    generator.shuffle(&all)
    return with(all.prefix(max(n, 0)).sorted().map { examples[$0] })
  }

  private func with(_ examples: [TextExample]) -> TextClassificationDataset {
    TextClassificationDataset(examples: examples, labels: labels, report: report)
  }

  private func indicesByLabel() -> [[Int]] {
    var groups = [[Int]](repeating: [], count: labels.count)
    for (i, e) in examples.enumerated() where groups.indices.contains(e.label) { groups[e.label].append(i) }
    return groups
  }

  /// Splits `total` among groups proportionally to `sizes` (largest remainder, ties to the
  /// lower index), never giving a group more than its size.
  static func allocate(_ total: Int, among sizes: [Int]) -> [Int] {
    let n = sizes.reduce(0, +)
    guard n > 0 else { return sizes.map { _ in 0 } }
    var quotas = sizes.map { $0 * total / n }
    let remainders = sizes.enumerated().map { (i, s) in (i, s * total % n) }
    var left = total - quotas.reduce(0, +)
    for (i, _) in remainders.sorted(by: { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }) where left > 0 {
      if quotas[i] < sizes[i] { quotas[i] += 1; left -= 1 }
    }
    return quotas
  }
}
