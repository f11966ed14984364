import Torch

/// `torch.nn.ModuleList`: an indexed list of modules of one type, named "0", "1", … in the state dict.
public final class ModuleList<Element: Module>: Module, RandomAccessCollection {
  private var items: [Element] = []

  public init(_ modules: [Element] = []) throws {
    super.init()
    for m in modules { try append(m) }
  }

  /// Adds a module at the end.
  public func append(_ module: Element) throws {
    try registerModule(String(items.count), module)
    items.append(module)
  }

  public var startIndex: Int { items.startIndex }
  public var endIndex: Int { items.endIndex }
  public subscript(position: Int) -> Element { items[position] }

  /// The module at `index` (negative counts from the end); throws when out of range.
  public func module(at index: Int) throws -> Element {
    let i = index < 0 ? index + items.count : index
    guard i >= 0, i < items.count else {
      throw TorchError("index \(index) is out of range for ModuleList of length \(items.count)")
    }
    return items[i]
  }

  public override var typeName: String { "ModuleList" }

  /// PyTorch's ModuleList repr: runs of identical children are shown once as `(0-5): 6 x Layer(...)`.
  public override var description: String {
    let reprs = items.map(\.description)
    guard let first = reprs.first else { return "ModuleList()" }
    var blocks: [(start: Int, end: Int, text: String)] = [(0, 0, first)]
    for (i, r) in reprs.enumerated().dropFirst() {
      if r == blocks[blocks.count - 1].text {
        blocks[blocks.count - 1].end = i
      } else {
        blocks.append((i, i, r))
      }
    }
    let lines = blocks.map { b -> String in
      let head = b.start == b.end ? "(\(b.start)): " : "(\(b.start)-\(b.end)): \(b.end - b.start + 1) x "
      return indentFollowingLines(head + b.text, by: 2)
    }
    return "ModuleList(\n  " + lines.joined(separator: "\n  ") + "\n)"
  }
}
