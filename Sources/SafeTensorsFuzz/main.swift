import Foundation
import SafeTensors

// Usage: SafeTensorsFuzz [SECONDS] [SEED] [SCRATCH_DIR]
//        SafeTensorsFuzz --open FILE [REPEAT]   (validate a file, print timing)
//   SECONDS      time budget (default 10)
//   SEED         RNG seed (default: derived from the clock; printed)
//   SCRATCH_DIR  where every 128th case is written and re-read through mmap
//                (default: a fresh directory under $TMPDIR or /tmp)
// Exits 0 when no consistency violation was found, 1 otherwise, 2 on bad usage.

let arguments = CommandLine.arguments.dropFirst()

if arguments.first == "--open", arguments.count >= 2 {
  let path = arguments[arguments.startIndex + 1]
  let repeats = arguments.count >= 3 ? Int(arguments[arguments.startIndex + 2]) ?? 1 : 1
  do {
    var best = Double.infinity
    var file: SafeTensorsFile?
    for _ in 0..<max(1, repeats) {
      let start = Date()
      file = try SafeTensorsFile(path: path)
      best = min(best, Date().timeIntervalSince(start))
    }
    if let file {
      print(
        "\(path): \(file.count) tensors, header \(file.header.headerLength) bytes, "
          + "data \(file.header.dataByteCount) bytes, metadata keys \(file.metadata.count); "
          + "open+validate best of \(max(1, repeats)): \(String(format: "%.2f", best * 1000)) ms")
    }
    exit(0)
  } catch {
    print(error)
    exit(1)
  }
}
let usage = "usage: SafeTensorsFuzz [SECONDS] [SEED] [SCRATCH_DIR]"
guard arguments.count <= 3 else {
  print(usage)
  exit(2)
}
let seconds = arguments.first.map { Double($0) } ?? 10
let seed = arguments.dropFirst().first.map { UInt64($0) } ?? UInt64(Date().timeIntervalSince1970 * 1000)
guard let seconds, let seed else {
  print(usage)
  exit(2)
}
let scratch: String
if let given = arguments.dropFirst(2).first {
  scratch = given
} else {
  let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
  scratch = base + "/safetensors-fuzz-\(getpid())"
}
do {
  try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
} catch {
  print("cannot create scratch directory \(scratch): \(error)")
  exit(2)
}
print("seed: \(seed), budget: \(seconds) s, scratch: \(scratch)")
var fuzzer = SafeTensorsFuzzer(seed: seed)
let report = fuzzer.run(seconds: seconds, scratchDirectory: scratch)
if arguments.count < 3 { try? FileManager.default.removeItem(atPath: scratch) }
print(report)
exit(report.violations.isEmpty ? 0 : 1)
