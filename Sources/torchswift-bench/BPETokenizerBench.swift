import ArgumentParser
import CLISupport
import Foundation
import Tokenizers

extension Bench {
  /// BPE tokenizers: load time of a 150k-token tokenizer.json and one-thread encode throughput on the corpus
  /// (the twin of bench/tokenizer_bpe_hf.py; fixtures from make_bpe_fixtures.py).
  struct BPETokenizerThroughput: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "tokenizer-bpe",
      abstract: "Load ms of a 150k-token BPE tokenizer.json and one-thread tokens/s of a BPE tokenizer; prints JSON.")
    @Option(help: "tokenizer.json timed for loading") var load: String
    @Option(help: "folder of the tokenizer whose encoding is timed") var tokenizer: String
    @Option var corpus: String?
    @Option var repeats = 5

    func run() throws {
      var loads: [Double] = []
      for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try Tokenizer(tokenizerJSON: load)
        loads.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
      }
      let tok = try Tokenizer(directory: tokenizer)
      let texts = try corpusTexts(try corpus ?? bundledCorpus())
      var tokens = 0
      for t in texts { tokens += try tok.encode(t).count }
      var best = Double.infinity
      for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        var n = 0
        for t in texts { n += try tok.encode(t).count }
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        precondition(n == tokens)
      }
      let name = URL(fileURLWithPath: tokenizer).lastPathComponent
      print(
        #"{"benchmark": "tokenizer_load", "variant": "150k-token BPE", "impl": "swift", "ms": \#(loads.sorted()[loads.count / 2])}"#
      )
      print(
        #"{"benchmark": "tokenizer_bpe", "variant": "\#(name), 1 thread", "impl": "swift", "tokens_per_s": \#(Double(tokens) / best), "tokens": \#(tokens)}"#
      )
    }
  }
}
