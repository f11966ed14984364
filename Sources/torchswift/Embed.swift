import ArgumentParser
import CLISupport
import FileIO
import Foundation
import Models
import Torch
import Training

/// `torchswift embed`: sentence embeddings as sentence-transformers computes them.
struct Embed: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Sentence embeddings of texts with a sentence-transformers folder (JSONL or .npy output).")

  @Option(help: "sentence-transformers folder. Default: the bundled all-MiniLM-L6-v2.") var model: String?
  @Option(help: "Write to FILE.jsonl (one JSON array per line, input order) or FILE.npy; default: JSONL on stdout.")
  var output: String?
  @Option(name: .customLong("batch-size"), help: "Texts per batch.") var batchSize = 32
  @Option(name: .customLong("max-length"), help: "Truncate to N tokens (default: the model's max_seq_length).")
  var maxLength: Int?
  @Option(help: "cpu, cuda or cuda:N.") var device = "cpu"
  @Option(help: ArgumentHelp(precisionHelp)) var precision = "fp32"
  @OptionGroup var input: TextInput
  @OptionGroup var quantization: QuantizeOptions

  func run() throws {
    guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
    if let maxLength, maxLength < 2 { throw ValidationError("--max-length must be at least 2, got \(maxLength)") }
    if let output, !(output.hasSuffix(".jsonl") || output.hasSuffix(".npy")) {
      throw ValidationError("--output must end in .jsonl or .npy, got '\(output)'")
    }
    let dev = try deviceOption(device)
    let autocast = try precisionOption(precision, device: dev)
    let texts = try input.load()
    if let model { try checkModelFolder(model) }
    let st = try SentenceTransformer(
      directory: try model ?? BundledModel.directory(), device: dev, maxSeqLength: maxLength)
    try quantization.apply(to: st.model)
    let emb = try autocast.run(on: dev) { try st.encode(texts, batchSize: batchSize) }.float().cpu().contiguous()
    let dim = texts.isEmpty ? st.model.config.hiddenSize : try emb.size(1)
    if let output, output.hasSuffix(".npy") {
      try emb.reshape([texts.count, dim]).saveNPY(to: output)
      return
    }
    let values = try emb.floats()
    var text = ""
    for i in 0..<texts.count { text += jsonNumbers(Array(values[(i * dim)..<((i + 1) * dim)])) + "\n" }
    if let output {
      try AtomicFile.write(text, to: output)
    } else {
      FileHandle.standardOutput.write(Data(text.utf8))
    }
  }
}
