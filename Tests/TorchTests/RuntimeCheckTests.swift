import Foundation
import XCTest

@testable import Torch

/// A libtorch other than the one TorchSwift was built against: the library throws the explanation from
/// `Torch.verifyRuntime()` and from every libtorch call, and the process carries on (it used to exit(70)
/// from inside the first tensor's initializer).
final class RuntimeCheckTests: XCTestCase {
  static let childVariable = "TORCHSWIFT_RUNTIME_CHECK_CHILD"

  /// A copy of the loaded torch's lib folder (symlinks) beside a version.py that says 2.7.1, and the nvidia
  /// libraries its RUNPATH reaches through $ORIGIN/../../nvidia; returns the fake lib folder.
  static func fakeTorch(_ test: XCTestCase) throws -> String {
    let lib = URL(fileURLWithPath: Torch.runtime.libraryPath).deletingLastPathComponent()  // .../torch/lib
    let sitePackages = lib.deletingLastPathComponent().deletingLastPathComponent()
    let root = NSTemporaryDirectory() + "torchswift-fake-torch-\(getpid())-\(UUID().uuidString)"
    let fm = FileManager.default
    try fm.createDirectory(atPath: root + "/torch/lib", withIntermediateDirectories: true)
    test.addTeardownBlock { try? fm.removeItem(atPath: root) }
    for name in try fm.contentsOfDirectory(atPath: lib.path) {
      try fm.createSymbolicLink(atPath: root + "/torch/lib/" + name, withDestinationPath: lib.path + "/" + name)
    }
    let nvidia = sitePackages.appendingPathComponent("nvidia").path
    if fm.fileExists(atPath: nvidia) {
      try fm.createSymbolicLink(atPath: root + "/nvidia", withDestinationPath: nvidia)
    }
    try "__version__ = '2.7.1'\n".write(toFile: root + "/torch/version.py", atomically: true, encoding: .utf8)
    return root + "/torch/lib"
  }

  /// The child's side: only runs in the child process.
  func testChildUsesAMismatchedRuntime() throws {
    guard ProcessInfo.processInfo.environment[Self.childVariable] != nil else { return }
    do {
      try Torch.verifyRuntime()
      print("CHILD verifyRuntime: no error")
    } catch {
      print("CHILD verifyRuntime threw: \(error)")
    }
    do {
      _ = try Tensor.ones([2])
      print("CHILD ones: no error")
    } catch {
      print("CHILD ones threw: \(error)")
    }
    print("CHILD still running")
  }

  func testAMismatchedRuntimeThrowsAndTheProcessCarriesOn() throws {
    let fakeLib = try Self.fakeTorch(self)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    p.arguments = ["TorchTests.RuntimeCheckTests/testChildUsesAMismatchedRuntime"]
    var env = ProcessInfo.processInfo.environment
    env[Self.childVariable] = "1"
    env["LD_LIBRARY_PATH"] = fakeLib + (env["LD_LIBRARY_PATH"].map { ":" + $0 } ?? "")
    env["TORCHSWIFT_ALLOW_VERSION_MISMATCH"] = nil
    p.environment = env
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 0, out)
    XCTAssertTrue(
      out.contains(
        "CHILD verifyRuntime threw: TorchSwift was built against libtorch \(Torch.builtVersion) but loaded libtorch 2.7.1"
      ), out)
    XCTAssertTrue(out.contains("CHILD ones threw: TorchSwift was built against"), out)
    XCTAssertTrue(out.contains("CHILD still running"), out)
  }
}
