import Foundation
import Tokenizers

/// Fuzzes a tokenizer with random Unicode text for a bounded time and checks invariants.
///
/// Usage: TokenizersFuzz [--model DIR] [--seconds S] [--seed N]   (model default: $TORCHSWIFT_MODEL_DIR)
func argument(_ name: String) -> String? {
  let args = CommandLine.arguments
  guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
  return args[i + 1]
}

guard let modelDir = argument("--model") ?? ProcessInfo.processInfo.environment["TORCHSWIFT_MODEL_DIR"] else {
  FileHandle.standardError.write(Data("usage: TokenizersFuzz --model DIR [--seconds S] [--seed N]\n".utf8))
  exit(2)
}
do {
  let tokenizer = try Tokenizer(directory: modelDir)
  var fuzzer = TokenizerFuzzer(seed: UInt64(argument("--seed") ?? "") ?? 0x5EED)
  let report = fuzzer.run(tokenizer: tokenizer, seconds: Double(argument("--seconds") ?? "") ?? 10)
  print(report.summary)
  exit(report.failures.isEmpty ? 0 : 1)
} catch {
  FileHandle.standardError.write(Data("error: \(error)\n".utf8))
  exit(1)
}
