import Torch

/// The base class of every layer (`torch.nn.Module`): a tree of named parameters, buffers and child modules.
///
/// Subclasses declare their child modules with their PyTorch names and register their tensors in the
/// initializer, in PyTorch's order:
///
///     @ModuleInfo(key: "self_attn") public var selfAttn: MultiheadAttention
///     ...
///     super.init()
///     weight = try registerParameter("weight", Tensor.empty([out, in]))
///     selfAttn = try MultiheadAttention(...)
///
/// Containers with a number of children known only at run time (`ModuleList`, `Sequential`) add them with
/// `registerModule(_:_:)`.
///
/// so that the dotted names of `stateDict()` (`layers.0.self_attn.in_proj_weight`) equal PyTorch's
/// `state_dict()` keys and checkpoints move between the two. A registered tensor keeps its identity for
/// the module's life: `load(stateDict:)` and `to(device:dtype:)` change its contents in place, as
/// PyTorch does, so optimizers holding the parameters stay valid.
open class Module: CustomStringConvertible {
  /// Whether the module is in training mode (dropout active); set recursively by `train()` / `eval()`.
  public private(set) var training = true

  private var parameterSlots: [(name: String, tensor: Tensor?)] = []
  private var bufferSlots: [(name: String, tensor: Tensor?, persistent: Bool)] = []
  private var moduleSlots: [(name: String, module: Module?)] = []
  /// The `@ModuleInfo` children (subclasses' stored properties are initialised before this initializer runs).
  private var declared: [(key: String, info: AnyModuleInfo)] = []

  public init() {
    declared = declaredChildren(of: self)
    var keys = Set<String>()
    for d in declared {
      precondition(keys.insert(d.key).inserted, "\(typeName): two @ModuleInfo children have the key '\(d.key)'")
    }
  }

  // MARK: registration

  /// Adds (or replaces) a parameter: a leaf tensor that requires grad (floating point only). `nil` records
  /// an absent optional parameter (PyTorch's `register_parameter(name, None)`), e.g. a disabled bias.
  @discardableResult
  public func registerParameter(_ name: String, _ tensor: Tensor?) throws -> Tensor? {
    try validateName(name, kind: "parameter")
    if let tensor {
      guard tensor.isLeaf else {
        throw TorchError("cannot register parameter '\(name)': it must be a leaf tensor (use detach() first)")
      }
      guard tensor.dtype.isFloatingPoint else {
        throw TorchError(
          "cannot register parameter '\(name)' of dtype \(tensor.dtype): only floating point tensors can require gradients"
        )
      }
      if !tensor.requiresGrad { try tensor.requiresGrad_(true) }
    }
    if let i = parameterSlots.firstIndex(where: { $0.name == name }) {
      parameterSlots[i].tensor = tensor
    } else {
      parameterSlots.append((name, tensor))
    }
    return tensor
  }

  /// Adds (or replaces) a buffer: state that is not trained (e.g. running statistics, a loss's class weights).
  /// Non-persistent buffers are left out of `stateDict()`.
  @discardableResult
  public func registerBuffer(_ name: String, _ tensor: Tensor?, persistent: Bool = true) throws -> Tensor? {
    try validateName(name, kind: "buffer")
    if let i = bufferSlots.firstIndex(where: { $0.name == name }) {
      bufferSlots[i] = (name, tensor, persistent)
    } else {
      bufferSlots.append((name, tensor, persistent))
    }
    return tensor
  }

  /// Adds (or replaces) a child module under `name` and returns it (typed), after the `@ModuleInfo` children
  /// (PyTorch's `register_module`), for containers whose children are known only at run time.
  @discardableResult
  public func registerModule<M: Module>(_ name: String, _ module: M) throws -> M {
    try validateName(name, kind: "module")
    if let i = moduleSlots.firstIndex(where: { $0.name == name }) {
      moduleSlots[i].module = module
    } else {
      moduleSlots.append((name, module))
    }
    module.setTrainingRecursively(training)
    return module
  }

  /// Registers an absent optional child (PyTorch's `self.norm = None`, which is not listed anywhere).
  public func registerModule(_ name: String, _ module: Module?) throws {
    if let module {
      try registerModule(name, module)
    } else {
      try validateName(name, kind: "module")
      moduleSlots.removeAll { $0.name == name }
    }
  }

  /// Replaces the direct child `key` by `module`: a `@ModuleInfo` child whose property type accepts it (a `Linear`
  /// property takes any `Linear` subclass, e.g. `QuantizedLinear`), or a child added by `registerModule`.
  public func replaceChild(_ key: String, with module: Module) throws {
    if let d = declared.first(where: { $0.key == key }) {
      guard d.info.assign(module) else {
        throw TorchError("\(typeName): child '\(key)' cannot hold a \(module.typeName)")
      }
    } else if let i = moduleSlots.firstIndex(where: { $0.name == key }) {
      moduleSlots[i].module = module
    } else {
      throw TorchError("\(typeName) has no child '\(key)'")
    }
    module.setTrainingRecursively(training)
  }

  private func validateName(_ name: String, kind: String) throws {
    guard !name.isEmpty else { throw TorchError("\(kind) name can't be empty string \"\"") }
    guard !name.contains(".") else { throw TorchError("\(kind) name can't contain \".\", got \"\(name)\"") }
    if declared.contains(where: { $0.key == name }) {
      let what = kind == "module" ? "assign the property instead" : "attribute '\(name)' is already a module"
      throw TorchError("cannot register \(kind) '\(name)': it is a declared child (@ModuleInfo); \(what)")
    }
    let taken: [(String, String)] =
      (kind == "parameter" ? [] : parameterSlots.map { ($0.name, "parameter") })
      + (kind == "buffer" ? [] : bufferSlots.map { ($0.name, "buffer") })
      + (kind == "module" ? [] : moduleSlots.map { ($0.name, "module") })
    if let clash = taken.first(where: { $0.0 == name }) {
      throw TorchError("cannot register \(kind) '\(name)': attribute '\(name)' is already a \(clash.1)")
    }
  }

  // MARK: traversal

  /// The direct children: the `@ModuleInfo` ones in declaration order, then those added by `registerModule`.
  public func namedChildren() -> [(String, Module)] {
    declared.compactMap { d in d.info.module.map { (d.key, $0) } }
      + moduleSlots.compactMap { slot in slot.module.map { (slot.name, $0) } }
  }

  public func children() -> [Module] { namedChildren().map(\.1) }

  /// This module and all descendants with their dotted names ("" for self), each module once.
  public func namedModules(prefix: String = "") -> [(String, Module)] {
    var seen = Set<ObjectIdentifier>()
    var out: [(String, Module)] = []
    func visit(_ m: Module, _ p: String) {
      guard seen.insert(ObjectIdentifier(m)).inserted else { return }
      out.append((p, m))
      for (n, c) in m.namedChildren() { visit(c, p.isEmpty ? n : p + "." + n) }
    }
    visit(self, prefix)
    return out
  }

  public func modules() -> [Module] { namedModules().map(\.1) }

  /// Parameters with dotted names (`layers.0.linear1.weight`), each tensor once (shared ones under their
  /// first name), as `named_parameters()`.
  public func namedParameters(recurse: Bool = true) -> [(String, Tensor)] {
    var seen = Set<ObjectIdentifier>()
    var out: [(String, Tensor)] = []
    for (prefix, m) in recurse ? namedModules() : [("", self)] {
      for slot in m.parameterSlots {
        guard let t = slot.tensor, seen.insert(ObjectIdentifier(t)).inserted else { continue }
        out.append((prefix.isEmpty ? slot.name : prefix + "." + slot.name, t))
      }
    }
    return out
  }

  /// All parameters, each once, in `namedParameters()` order (what an optimizer takes).
  public func parameters(recurse: Bool = true) -> [Tensor] { namedParameters(recurse: recurse).map(\.1) }

  /// Buffers with dotted names, each once (persistent and not).
  public func namedBuffers(recurse: Bool = true) -> [(String, Tensor)] {
    var seen = Set<ObjectIdentifier>()
    var out: [(String, Tensor)] = []
    for (prefix, m) in recurse ? namedModules() : [("", self)] {
      for slot in m.bufferSlots {
        guard let t = slot.tensor, seen.insert(ObjectIdentifier(t)).inserted else { continue }
        out.append((prefix.isEmpty ? slot.name : prefix + "." + slot.name, t))
      }
    }
    return out
  }

  public func buffers(recurse: Bool = true) -> [Tensor] { namedBuffers(recurse: recurse).map(\.1) }

  /// Number of trainable scalars (elements of all parameters, each parameter once).
  public var parameterCount: Int { parameters().reduce(0) { $0 + $1.numel } }

  // MARK: state dict

  /// Parameters and persistent buffers in PyTorch's `state_dict()` order: for each module, its parameters,
  /// then its buffers, then its children. Tensors are detached and share storage with the module's.
  public func orderedStateDict() throws -> [(String, Tensor)] {
    var out: [(String, Tensor)] = []
    func visit(_ m: Module, _ p: String) throws {
      for slot in m.parameterSlots { if let t = slot.tensor { out.append((p + slot.name, try t.detach())) } }
      for slot in m.bufferSlots where slot.persistent {
        if let t = slot.tensor { out.append((p + slot.name, try t.detach())) }
      }
      for (n, c) in m.namedChildren() { try visit(c, p + n + ".") }
    }
    try visit(self, "")
    return out
  }

  /// `state_dict()` as a dictionary (save it with `Torch.save(model.stateDict(), to:)`).
  public func stateDict() throws -> [String: Tensor] {
    Dictionary(try orderedStateDict(), uniquingKeysWith: { first, _ in first })
  }

  /// Every state-dict entry's live tensor (not detached), by key.
  private func stateEntries() -> [(String, Tensor)] {
    var out: [(String, Tensor)] = []
    func visit(_ m: Module, _ p: String) {
      for slot in m.parameterSlots { if let t = slot.tensor { out.append((p + slot.name, t)) } }
      for slot in m.bufferSlots where slot.persistent { if let t = slot.tensor { out.append((p + slot.name, t)) } }
      for (n, c) in m.namedChildren() { visit(c, p + n + ".") }
    }
    visit(self, "")
    return out
  }

  /// Copies `stateDict` into the module's tensors without recording gradients (`load_state_dict`).
  ///
  /// Every problem is collected first and nothing is copied when there is one: with `strict`, missing and
  /// unexpected keys are errors; shape mismatches always are. Values are converted to each tensor's dtype
  /// and device. Returns the missing and unexpected keys (both empty after a strict load).
  @discardableResult
  public func load(stateDict: [String: Tensor], strict: Bool = true) throws -> (
    missingKeys: [String], unexpectedKeys: [String]
  ) {
    let entries = stateEntries()
    let own = Set(entries.map(\.0))
    var report = StateDictError(moduleName: typeName)
    report.missingKeys = entries.map(\.0).filter { stateDict[$0] == nil }
    report.unexpectedKeys = stateDict.keys.filter { !own.contains($0) }.sorted()
    for (key, tensor) in entries {
      if let source = stateDict[key], source.shape != tensor.shape {
        report.sizeMismatches.append((key, source.shape, tensor.shape))
      }
    }
    if !report.sizeMismatches.isEmpty || (strict && !(report.missingKeys.isEmpty && report.unexpectedKeys.isEmpty)) {
      if !strict { report.missingKeys = []; report.unexpectedKeys = [] }
      throw report
    }
    try withNoGrad {
      for (key, tensor) in entries {
        if let source = stateDict[key] { try tensor.copy_(source) }
      }
    }
    return (report.missingKeys, report.unexpectedKeys)
  }

  // MARK: modes, devices, gradients

  /// Sets training mode on this module and every descendant (`module.train(mode)`).
  @discardableResult
  public func train(_ mode: Bool = true) -> Self {
    setTrainingRecursively(mode)
    return self
  }

  /// Evaluation mode (`module.eval()`): dropout off.
  @discardableResult
  public func eval() -> Self { train(false) }

  private func setTrainingRecursively(_ mode: Bool) {
    training = mode
    for c in children() { c.setTrainingRecursively(mode) }
  }

  /// Moves and/or casts every parameter and buffer in place (`module.to(device, dtype)`): the tensors keep
  /// their identity (their data is replaced), so optimizers built before stay valid. `dtype` applies to
  /// floating point tensors only, as in PyTorch; gradients follow their parameters.
  @discardableResult
  public func to(device: Device? = nil, dtype: DType? = nil) throws -> Self {
    if let dtype, !dtype.isFloatingPoint {
      throw TorchError("nn.Module.to only accepts floating point dtypes, but got desired dtype=\(dtype)")
    }
    func convert(_ t: Tensor) throws -> Tensor {
      try t.to(device: device, dtype: t.dtype.isFloatingPoint ? dtype : nil)
    }
    try withNoGrad {
      for t in parameters() + buffers() {
        let moved = try convert(t)
        if moved !== t { try t.setData(moved) }
        if let g = t.grad {
          let mg = try convert(g)
          if mg !== g { t.grad = mg }
        }
      }
    }
    return self
  }

  /// Sets `requires_grad` on every parameter (`module.requires_grad_(flag)`): `false` freezes the module.
  @discardableResult
  public func requiresGrad(_ flag: Bool = true) throws -> Self {
    for p in parameters() { try p.requiresGrad_(flag) }
    return self
  }

  /// Clears every parameter's gradient (`zero_grad`): drops it (`setToNone`, the default) or fills it with zeros.
  public func zeroGrad(setToNone: Bool = true) throws {
    for p in parameters() {
      if setToNone {
        if p.grad != nil { p.grad = nil }
      } else if let g = p.grad {
        if g.gradFnName != nil { p.grad = try g.detach() }
        try p.grad?.zero_()
      }
    }
  }

  // MARK: description

  /// The class name shown in `description` (PyTorch's `_get_name()`).
  open var typeName: String { String(describing: type(of: self)) }

  /// The text inside the parentheses of this module's own line (PyTorch's `extra_repr`).
  open var extraDescription: String { "" }

  /// The module tree as PyTorch prints it.
  open var description: String {
    let extraLines =
      extraDescription.isEmpty
      ? [] : extraDescription.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let childLines = namedChildren().map { "(\($0.0)): " + indentFollowingLines($0.1.description, by: 2) }
    let lines = extraLines + childLines
    var text = typeName + "("
    if !lines.isEmpty {
      if extraLines.count == 1 && childLines.isEmpty {
        text += extraLines[0]
      } else {
        text += "\n  " + lines.joined(separator: "\n  ") + "\n"
      }
    }
    return text + ")"
  }
}

/// Indents every line but the first (PyTorch's `_addindent`).
func indentFollowingLines(_ text: String, by n: Int) -> String {
  let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
  guard lines.count > 1 else { return text }
  let pad = String(repeating: " ", count: n)
  return ([String(lines[0])] + lines.dropFirst().map { pad + $0 }).joined(separator: "\n")
}

/// Python's `repr` of a float (`0.1`, `1e-05`, `0.0`), for module descriptions.
func pythonFloat(_ x: Double) -> String {
  if x == x.rounded(), Swift.abs(x) < 1e16 { return String(format: "%.1f", x) }
  return "\(x)"
}

/// Python's `repr` of a bool.
func pythonBool(_ b: Bool) -> String { b ? "True" : "False" }

/// Why `load(stateDict:strict:)` refused a state dict: every missing and unexpected key and every shape
/// mismatch (with the checkpoint's and the model's shapes), in PyTorch's wording.
public struct StateDictError: Error, CustomStringConvertible {
  public var moduleName: String
  public var missingKeys: [String] = []
  public var unexpectedKeys: [String] = []
  public var sizeMismatches: [(key: String, checkpointShape: [Int], modelShape: [Int])] = []

  public init(moduleName: String) { self.moduleName = moduleName }

  public var description: String {
    var lines = ["Error(s) in loading state_dict for \(moduleName):"]
    if !missingKeys.isEmpty {
      lines.append("\tMissing key(s) in state_dict: " + missingKeys.map { "\"\($0)\"" }.joined(separator: ", ") + ".")
    }
    if !unexpectedKeys.isEmpty {
      lines.append(
        "\tUnexpected key(s) in state_dict: " + unexpectedKeys.map { "\"\($0)\"" }.joined(separator: ", ") + ".")
    }
    for m in sizeMismatches {
      lines.append(
        "\tsize mismatch for \(m.key): copying a param with shape \(m.checkpointShape) from checkpoint, the shape in current model is \(m.modelShape)."
      )
    }
    return lines.joined(separator: "\n")
  }
}

/// A module applied to one tensor, usable in `Sequential` (`module(x)`).
public protocol UnaryModule: Module {
  /// The layer's computation.
  func forward(_ input: Tensor) throws -> Tensor
}

extension UnaryModule {
  /// Runs `forward` (PyTorch's `module(x)`).
  public func callAsFunction(_ input: Tensor) throws -> Tensor { try forward(input) }
}
