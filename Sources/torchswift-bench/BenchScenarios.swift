import ArgumentParser
import CLISupport
import Datasets
import Foundation
import Models
import NN
import Tokenizers
import Torch

func corpusTexts(_ path: String, limit: Int? = nil) throws -> [String] {
  let file = try DelimitedFileReader(format: .csv).read(path: path)
  let texts = file.records.map { file.value("text", in: $0) ?? "" }
  return limit.map { Array(texts.prefix($0)) } ?? texts
}

extension Bench {
  /// Tokenizer throughput on the corpus: every text, special tokens added, no truncation or padding.
  struct TokenizerThroughput: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "tokenizer", abstract: "Tokens/s on the bundled corpus, one thread and all cores; prints JSON.")
    @Option var model: String?
    @Option var corpus: String?
    @Option var repeats = 3

    func run() throws {
      var tok = try Tokenizer(directory: try model ?? BundledModel.directory())
      tok.truncation = nil
      tok.padding = nil
      let texts = try corpusTexts(try corpus ?? bundledCorpus())
      var tokens = 0
      for t in texts { tokens += try tok.encode(t).count }
      var single = Double.infinity, batch = Double.infinity
      for _ in 0..<repeats {
        var start = DispatchTime.now().uptimeNanoseconds
        var n = 0
        for t in texts { n += try tok.encode(t).count }
        single = min(single, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        precondition(n == tokens)
        start = DispatchTime.now().uptimeNanoseconds
        _ = try tok.encodeBatch(texts)
        batch = min(batch, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
      }
      print(
        #"{"benchmark": "tokenizer", "variant": "1 thread", "impl": "swift", "tokens_per_s": \#(Double(tokens) / single), "tokens": \#(tokens)}"#
      )
      print(
        #"{"benchmark": "tokenizer", "variant": "all cores", "impl": "swift", "tokens_per_s": \#(Double(tokens) / batch), "tokens": \#(tokens)}"#
      )
    }
  }

  /// Sentence-embedding throughput: the corpus' first N tweets, batch 32.
  struct EmbedThroughput: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "embed", abstract: "Sentences/s of sentence embeddings (first N tweets, batch 32); prints JSON.")
    @Option var model: String?
    @Option var corpus: String?
    @Option var count = 4000
    @Option(name: .customLong("batch-size")) var batchSize = 32
    @Option(help: "Quantize the linear layers first: int8, int4 or dynamic-int8.") var quantize: String?
    @Option(name: .customLong("dynamic-kernel"), help: "dynamic-int8's kernel: fbgemm or int-mm.") var dynamicKernel =
      "fbgemm"

    func run() throws {
      let st = try SentenceTransformer(directory: try model ?? BundledModel.directory())
      if let quantize {
        guard let scheme = QuantizationScheme(rawValue: quantize) else {
          throw ValidationError("--quantize int8|int4|dynamic-int8")
        }
        guard let kernel = DynamicInt8Kernel(rawValue: dynamicKernel) else {
          throw ValidationError("--dynamic-kernel fbgemm|int-mm")
        }
        try NN.quantize(st.model, scheme: scheme, dynamicKernel: kernel)
      }
      let texts = try corpusTexts(try corpus ?? bundledCorpus(), limit: count)
      _ = try st.encode(Array(texts.prefix(64)), batchSize: batchSize)
      let start = DispatchTime.now().uptimeNanoseconds
      let emb = try st.encode(texts, batchSize: batchSize)
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      precondition(emb.shape == [texts.count, st.model.config.hiddenSize])
      print(
        #"{"benchmark": "embed", "variant": "\#(quantize.map { $0 + (dynamicKernel == "int-mm" ? " int-mm" : "") } ?? "")", "impl": "swift", "sentences_per_s": \#(Double(texts.count) / seconds), "threads": \#(Torch.numThreads)}"#
      )
    }
  }
}
