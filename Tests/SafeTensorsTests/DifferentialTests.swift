import Foundation
import XCTest
import SafeTensors

/// Differential check against the reference implementation: fuzzer-made
/// images are judged by Python's `safetensors.deserialize` (the Rust crate)
/// and by this reader, and the verdicts must agree.
final class DifferentialTests: XCTestCase {
  /// A fixed seed: the same 4,000 images every run.
  func testAcceptRejectAgreesWithReferenceCrateOnFixedSeed() throws {
    try compare(seed: 20_251_205, count: 4000)
  }

  /// A new seed each run (from the clock, printed first; `TORCHSWIFT_DIFFERENTIAL_SEED` replays one).
  func testAcceptRejectAgreesWithReferenceCrateOnClockSeed() throws {
    let seed =
      ProcessInfo.processInfo.environment["TORCHSWIFT_DIFFERENTIAL_SEED"].flatMap { UInt64($0) }
      ?? UInt64(Date().timeIntervalSince1970)
    print("differential seed \(seed) (replay with TORCHSWIFT_DIFFERENTIAL_SEED=\(seed))")
    try compare(seed: seed, count: 2000)
  }

  func compare(seed: UInt64, count: Int) throws {
    let directory = try TestSupport.makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var fuzzer = SafeTensorsFuzzer(seed: seed)
    var images: [[UInt8]] = []
    var corpus: [UInt8] = []
    for _ in 0..<count {
      let image = fuzzer.makeCase()
      images.append(image)
      corpus += withUnsafeBytes(of: UInt64(image.count).littleEndian) { [UInt8]($0) } + image
    }
    let corpusURL = directory.appendingPathComponent("corpus.bin")
    try Data(corpus).write(to: corpusURL)
    let output = try TestSupport.runPython("reference_tool.py", ["verdicts", corpusURL.path])
    let verdicts = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])
    XCTAssertEqual(verdicts.count, images.count)
    var accepted = 0, duplicatesRejected = 0, hugeDimensions = 0, disagreements: [String] = []
    for (image, verdict) in zip(images, verdicts) {
      let ours = Result { try SafeTensorsFile(bytes: image) }
      switch (ours, verdict["ok"] as? [String]) {
      case let (.success(file), names?):
        accepted += 1
        if file.names.sorted() != names {
          disagreements.append("names differ: \(file.names.sorted()) vs \(names)")
        }
      case (.failure, nil):
        break
      case let (.success(file), nil):
        disagreements.append(
          "we accept (\(file.names)), reference rejects: \(verdict["error"] ?? "") — \(TestSupport.hex(Array(image.prefix(200))))"
        )
      case let (.failure(error), _?):
        if verdict["duplicates"] as? Bool == true {
          duplicatesRejected += 1
          continue  // documented: the reference keeps the last duplicate, we reject
        }
        if let kind = (error as? SafeTensorsError)?.kind, case let .invalidShape(_, reason) = kind,
          reason.hasSuffix("is too large")
        {
          hugeDimensions += 1
          continue  // documented: dimensions above Int.max are rejected even in empty tensors
        }
        disagreements.append("we reject (\(error)), reference accepts — \(TestSupport.hex(Array(image.prefix(200))))")
      }
    }
    print(
      "differential seed \(seed): \(images.count) images, \(accepted) accepted by both, \(duplicatesRejected) with duplicate keys (rejected by us only), \(hugeDimensions) with a dimension > Int.max (rejected by us only), \(disagreements.count) disagreements"
    )
    XCTAssertEqual(disagreements, [], "seed \(seed)")
    XCTAssertGreaterThan(accepted, count / 80, "seed \(seed)")
  }
}
