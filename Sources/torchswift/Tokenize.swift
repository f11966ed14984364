import ArgumentParser
import Foundation
import Models
import Tokenizers

/// `torchswift tokenize`: one JSON object per input text with input_ids, token_type_ids, attention_mask.
struct Tokenize: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Tokenize texts with a Hugging Face tokenizer folder; prints one JSON object per line.")

  @Option(help: "Folder with tokenizer.json (or vocab.txt + tokenizer_config.json). Default: the bundled model.")
  var tokenizer: String?

  @Option(name: .customLong("max-length"), help: "Truncate to at most N tokens (special tokens included).")
  var maxLength: Int?

  @OptionGroup var input: TextInput

  func run() throws {
    if let maxLength, maxLength < 2 { throw ValidationError("--max-length must be at least 2, got \(maxLength)") }
    var tok = try Tokenizer(directory: try tokenizer ?? BundledModel.directory())
    tok.padding = nil
    tok.truncation = maxLength.map { Truncation(maxLength: $0) }
    let texts = try input.load()
    var out = ""
    for e in try tok.encodeBatch(texts) {
      out +=
        "{\"input_ids\": \(jsonInts(e.ids)), \"token_type_ids\": \(jsonInts(e.typeIds)), \"attention_mask\": \(jsonInts(e.attentionMask))}\n"
      if out.utf8.count > 1 << 20 { FileHandle.standardOutput.write(Data(out.utf8)); out = "" }
    }
    FileHandle.standardOutput.write(Data(out.utf8))
  }
}
