import Foundation
import Torch
import XCTest

/// The CLI, not the library, decides to stop on a libtorch it was not built for: `torchswift` commands exit 70
/// with the explanation; `doctor` reports it and finishes its checks.
final class RuntimeMismatchCLITests: XCTestCase {
  func run(_ args: [String], fakeLib: String) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try TrainEnv.binary())
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["LD_LIBRARY_PATH"] = fakeLib + ":" + TrainEnv.root + "/.torchswift/lib"
    env["TORCHSWIFT_ALLOW_VERSION_MISMATCH"] = nil
    p.environment = env
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  func testCommandsStopWithTheExplanationDoctorReportsIt() throws {
    // A copy of the loaded torch's lib folder beside a version.py that says 2.7.1 (see RuntimeCheckTests).
    let lib = URL(fileURLWithPath: Torch.runtime.libraryPath).deletingLastPathComponent()
    let root = NSTemporaryDirectory() + "torchswift-fake-torch-cli-\(getpid())"
    let fm = FileManager.default
    try? fm.removeItem(atPath: root)
    try fm.createDirectory(atPath: root + "/torch/lib", withIntermediateDirectories: true)
    defer { try? fm.removeItem(atPath: root) }
    for name in try fm.contentsOfDirectory(atPath: lib.path) {
      try fm.createSymbolicLink(atPath: root + "/torch/lib/" + name, withDestinationPath: lib.path + "/" + name)
    }
    let nvidia = lib.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("nvidia").path
    if fm.fileExists(atPath: nvidia) {
      try fm.createSymbolicLink(atPath: root + "/nvidia", withDestinationPath: nvidia)
    }
    try "__version__ = '2.7.1'\n".write(toFile: root + "/torch/version.py", atomically: true, encoding: .utf8)

    let explanation = "TorchSwift was built against libtorch \(Torch.builtVersion) but loaded libtorch 2.7.1"
    let tokenize = try run(["tokenize", "hello"], fakeLib: root + "/torch/lib")
    XCTAssertEqual(tokenize.status, 70, tokenize.output)
    XCTAssertTrue(tokenize.output.hasPrefix("TorchSwift: " + explanation), tokenize.output)
    let doctor = try run(["doctor"], fakeLib: root + "/torch/lib")
    XCTAssertTrue(doctor.output.contains(explanation), doctor.output)
    XCTAssertNotEqual(doctor.status, 70, "doctor reports the mismatch instead of stopping: \(doctor.output)")
  }
}
