import Foundation

/// Runs bench/seed_table.py (the PyTorch twin) for one scenario configuration and parses its JSON lines.
struct PyTorchTwin {
  var python: String
  var script: String

  /// Outcomes by row and mode ("eager", "compile").
  typealias Results = [String: [String: Outcome]]

  /// Where the twin script is: the flag, ./bench/seed_table.py, or beside the binary (a GPU bundle).
  static func locateScript(_ explicit: String?) -> String? {
    let fm = FileManager.default
    if let explicit { return fm.fileExists(atPath: explicit) ? explicit : nil }
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    let candidates = [
      fm.currentDirectoryPath + "/bench/seed_table.py",
      exe.appendingPathComponent("seed_table.py").path,
      exe.appendingPathComponent("../bench/seed_table.py").standardizedFileURL.path
    ]
    return candidates.first { fm.fileExists(atPath: $0) }
  }

  /// The Python to use: the flag, $TORCHSWIFT_PYTHON, else .venv/bin/python.
  static func resolvePython(_ explicit: String?) -> String {
    if let explicit { return explicit }
    if let env = ProcessInfo.processInfo.environment["TORCHSWIFT_PYTHON"], !env.isEmpty { return env }
    return ".venv/bin/python"
  }

  /// Parses the script's stdout: one JSON object per line, other lines ignored.
  static func parse(_ stdout: String) -> Results {
    var out: Results = [:]
    for line in stdout.split(separator: "\n") where line.hasPrefix("{") {
      guard let obj = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
        let row = obj["row"] as? String, let mode = obj["mode"] as? String, let status = obj["status"] as? String
      else { continue }
      let reason = obj["reason"] as? String ?? "no reason given"
      switch status {
      case "ok":
        guard let med = (obj["median_ms"] as? NSNumber)?.doubleValue,
          let p90 = (obj["p90_ms"] as? NSNumber)?.doubleValue,
          let sps = (obj["samples_per_s"] as? NSNumber)?.doubleValue
        else {
          out[row, default: [:]][mode] = .failed("malformed result line from the PyTorch script")
          continue
        }
        let peak = (obj["peak_mem_bytes"] as? NSNumber)?.intValue
        out[row, default: [:]][mode] = .ok(
          Measurement(
            medianMs: med, p90Ms: p90, peakMemBytes: peak, samplesPerS: sps,
            note: obj["note"] as? String))
      case "skipped": out[row, default: [:]][mode] = .skipped(reason)
      default: out[row, default: [:]][mode] = .failed(reason)
      }
    }
    return out
  }

  /// Runs the script with `spec` (written to a temporary file); its stderr goes to ours.
  func run(spec: [String: Any]) -> (Results, problem: String?) {
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent(
      "torchswift-seed-table-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).json")
    defer { try? FileManager.default.removeItem(at: tmp) }
    do {
      try JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys]).write(to: tmp)
    } catch {
      return ([:], "cannot write the spec file: \(error)")
    }
    let p = Process()
    if python.contains("/") {
      p.executableURL = URL(fileURLWithPath: python)
      p.arguments = [script, "--spec", tmp.path]
    } else {
      p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      p.arguments = [python, script, "--spec", tmp.path]
    }
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.standardError
    do {
      try p.run()
    } catch {
      return ([:], "cannot run \(python): \(error.localizedDescription) (set --python or TORCHSWIFT_PYTHON)")
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let results = Self.parse(String(decoding: data, as: UTF8.self))
    if p.terminationStatus != 0 {
      return (results, "\(python) \(script) exited with status \(p.terminationStatus) (its error is printed above)")
    }
    return (results, nil)
  }
}
