import Foundation
import XCTest

@testable import Torch

/// `Torch.load` / `Torch.save` on files that are not what they should be: a clear error naming the file,
/// and nothing left behind in memory (the tensors read before a bad entry are freed).
final class TensorFileTests: XCTestCase {
  func scratch() throws -> String {
    let dir = NSTemporaryDirectory() + "torchswift-tensorfile-\(getpid())-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
  }

  /// Writes `expression` (a Python dict) with `torch.save`.
  func torchSave(_ expression: String, to path: String) throws {
    _ = try pythonOutput("import torch; torch.save(\(expression), \(String(reflecting: path)))")
  }

  func message(_ body: () throws -> Any) -> String {
    do {
      _ = try body()
      return "no error"
    } catch {
      return "\(error)"
    }
  }

  func testOddlyTypedEntriesGiveClearErrors() throws {
    let dir = try scratch()
    try torchSave("{'weight': torch.ones(3), 'step': 3}", to: dir + "/int.pt")
    let m = message { try Torch.load(dir + "/int.pt") }
    XCTAssertTrue(m.contains(dir + "/int.pt") && m.contains("'step' is not a tensor"), m)
    try torchSave("{1: torch.ones(3)}", to: dir + "/key.pt")
    let m2 = message { try Torch.load(dir + "/key.pt") }
    XCTAssertTrue(m2.contains(dir + "/key.pt") && m2.contains("key is not a string"), m2)
    try torchSave("[torch.ones(3)]", to: dir + "/list.pt")
    let m3 = message { try Torch.load(dir + "/list.pt") }
    XCTAssertTrue(m3.contains(dir + "/list.pt") && m3.contains("does not hold a dict of tensors"), m3)
  }

  func testCorruptFileNamesThePath() throws {
    let dir = try scratch()
    try torchSave("{'weight': torch.ones(3)}", to: dir + "/good.pt")
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/good.pt")))
    bytes = Array(bytes.prefix(bytes.count / 2))  // a truncated zip archive
    try Data(bytes).write(to: URL(fileURLWithPath: dir + "/cut.pt"))
    let m = message { try Torch.load(dir + "/cut.pt") }
    XCTAssertTrue(m.contains(dir + "/cut.pt"), m)
    try Data("not a tensor file".utf8).write(to: URL(fileURLWithPath: dir + "/text.pt"))
    let m2 = message { try Torch.load(dir + "/text.pt") }
    XCTAssertTrue(m2.contains(dir + "/text.pt"), m2)
  }

  /// A file whose first entry is a 32 MB tensor and whose second is not a tensor: before the fix every
  /// failed load leaked the first tensor (40 failures: 1.3 GB); resident memory must stay flat.
  func testFailedLoadsFreeWhatTheyRead() throws {
    let dir = try scratch()
    let path = dir + "/big-then-int.pt"
    try torchSave("{'big': torch.ones(8 * 1024 * 1024), 'step': 3}", to: path)
    for _ in 0..<3 { _ = message { try Torch.load(path) } }  // warm up allocator and reader caches
    let before = residentMB()
    for _ in 0..<40 {
      let m = message { try Torch.load(path) }
      XCTAssertTrue(m.contains("'step' is not a tensor"), m)
    }
    let after = residentMB()
    print(
      String(format: "resident memory: %.1f MB before, %.1f MB after 40 failed loads of a 32 MB tensor", before, after))
    XCTAssertLessThan(after - before, 128)
  }

  func testSaveIsAtomicAndRoundTrips() throws {
    let dir = try scratch()
    let path = dir + "/state.pt"
    let a = try Tensor([1, 2, 3] as [Float])
    try Torch.save(["a": a], to: path)
    try Torch.save(["a": a * 2], to: path)  // over an existing file
    XCTAssertEqual(try Torch.load(path)["a"]?.floats(), [2, 4, 6])
    let left = try FileManager.default.contentsOfDirectory(atPath: dir)
    XCTAssertEqual(left, ["state.pt"], "no temporary file left beside the result")
    let out = try pythonOutput(
      "import torch; print(torch.load(\(String(reflecting: path)), weights_only=False)['a'].tolist())")
    XCTAssertEqual(
      String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), "[2.0, 4.0, 6.0]")
    let m = message { try Torch.save(["a": a], to: dir + "/missing/state.pt") }
    XCTAssertTrue(m.contains(dir + "/missing"), m)
  }

  /// Saves from several threads to one path: before, all of them wrote `<path>.tmp` and renamed it, so one
  /// writer's rename found the file gone (or moved another's half-written file into place).
  func testConcurrentSavesToOnePathAllSucceed() throws {
    let dir = try scratch()
    let path = dir + "/shared.pt"
    let tensors = try (0..<4).map { i in try Tensor.full([50_000], Scalar(Double(i))) }
    let lock = NSLock()
    var failures: [String] = []
    DispatchQueue.concurrentPerform(iterations: 4) { i in
      for _ in 0..<10 {
        do { try Torch.save(["t": tensors[i]], to: path) } catch {
          lock.lock(); failures.append("\(error)"); lock.unlock()
        }
      }
    }
    XCTAssertEqual(failures, [])
    let loaded = try XCTUnwrap(try Torch.load(path)["t"])
    let values = Set(try loaded.toArray(Double.self))
    XCTAssertEqual(values.count, 1, "one writer's whole tensor")
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["shared.pt"])
  }
}

/// Resident set size of this process in MB (`/proc/self/statm`).
func residentMB() -> Double {
  guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
    let pages = Double(s.split(separator: " ")[1])
  else { return 0 }
  return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}
