import Torch

/// Declares a child module once, with its checkpoint key (mlx-swift's `@ModuleInfo(key:)`):
///
///     @ModuleInfo(key: "self_attn") public var selfAttn: MultiheadAttention
///     @ModuleInfo public var linear1: Linear           // key "linear1", the property's name
///     @ModuleInfo(key: "norm") public var norm: LayerNorm?   // nil: absent (PyTorch's `self.norm = None`)
///
/// and assigned after `super.init()`, in PyTorch's order: `selfAttn = try MultiheadAttention(...)`.
/// `Module` finds these children by reflection, in declaration order (a superclass's first), so the
/// property is the only place a child is named; `stateDict()` keys are `self_attn.in_proj_weight` etc.
/// Assigning another module later replaces the child (PyTorch's `model.classifier = nn.Linear(...)`).
/// A key must be non-empty and contain no "." (as PyTorch's `add_module`); a child read before it was
/// assigned stops the program, as an unassigned `let` would not compile.
@propertyWrapper
public final class ModuleInfo<Value> {
  /// The name in `namedChildren()` and state-dict keys; nil: the property's name.
  public let key: String?
  private var value: Value?

  public init(wrappedValue: Value, key: String? = nil) {
    precondition(key.map(ModuleInfoKey.isValid) ?? true, "ModuleInfo: invalid key '\(key ?? "")'")
    self.key = key
    self.value = wrappedValue
  }

  public init(key: String? = nil) {
    precondition(key.map(ModuleInfoKey.isValid) ?? true, "ModuleInfo: invalid key '\(key ?? "")'")
    self.key = key
  }

  public var wrappedValue: Value {
    get {
      guard let value else { preconditionFailure("ModuleInfo '\(key ?? "")' read before it was assigned") }
      return value
    }
    set { value = newValue }
  }
}

/// What `Module` reads of a `ModuleInfo` of any type.
protocol AnyModuleInfo: AnyObject {
  var key: String? { get }
  /// The child, or nil when unassigned or an optional child is nil.
  var module: Module? { get }
  /// Sets the child to `module` when the property's type accepts it.
  func assign(_ module: Module) -> Bool
}

extension ModuleInfo: AnyModuleInfo {
  var module: Module? {
    guard let value else { return nil }
    return value as? Module  // unwraps `Optional<M>` values too
  }

  func assign(_ module: Module) -> Bool {
    guard let v = module as? Value else { return false }
    value = v
    return true
  }
}

enum ModuleInfoKey {
  static func isValid(_ key: String) -> Bool { !key.isEmpty && !key.contains(".") }
}

/// The `@ModuleInfo` children of a module, found once by reflection (declaration order, superclass first).
/// The wrappers are reference types created with the instance, so the list stays valid when children are
/// reassigned.
func declaredChildren(of module: Module) -> [(key: String, info: AnyModuleInfo)] {
  var levels: [Mirror] = []
  var mirror: Mirror? = Mirror(reflecting: module)
  while let m = mirror {
    levels.append(m)
    mirror = m.superclassMirror
  }
  var out: [(key: String, info: AnyModuleInfo)] = []
  for level in levels.reversed() {
    for child in level.children {
      guard let info = child.value as? AnyModuleInfo else { continue }
      let label = child.label ?? ""
      out.append((info.key ?? (label.hasPrefix("_") ? String(label.dropFirst()) : label), info))
    }
  }
  return out
}
