import Foundation
import JSONSupport

/// Everything a tokenizer is built from, independent of where it was read.
struct TokenizerConfiguration {
  var normalizer: BertNormalizer?
  var preTokenizer: BertPreTokenizer?
  var vocab: [String: Int]
  var unkToken: String
  var continuingSubwordPrefix: String
  var maxInputCharsPerWord: Int
  var postProcessor: TemplateProcessing?
  var decoder: WordPieceDecoder?
  var addedTokens: [(id: Int, token: AddedToken)]
  var truncation: Truncation?
  var padding: Padding?
  /// The pipeline of a BPE tokenizer (the WordPiece fields above are then unused).
  var bpe: BPEConfiguration? = nil
}

/// Reads files, turning I/O and syntax failures into `TokenizerError`s that name the file.
enum ConfigurationFile {
  static func bytes(at path: String) throws -> [UInt8] {
    guard FileManager.default.fileExists(atPath: path) else {
      throw TokenizerError.fileNotFound(path: path, reason: "no such file")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TokenizerError.fileNotFound(path: path, reason: "the file is not readable")
    }
    return [UInt8](data)
  }

  static func json(at path: String) throws -> JSONValue {
    try document(bytes(at: path), file: path)
  }

  /// Parses a JSON document; a syntax error names `file`, the line and the column.
  static func document(_ bytes: [UInt8], file: String) throws -> JSONValue {
    do {
      return try JSONValue.parse(bytes)
    } catch let error as JSONSyntaxError {
      throw TokenizerError.malformedJSON(file: file, line: error.line, column: error.column, problem: error.problem)
    }
  }
}

/// Typed access to a JSON document with errors that carry the file and the JSON path.
struct JSONReader {
  let file: String

  func fail(_ path: String, _ problem: String) -> TokenizerError {
    .invalidConfiguration(file: file, path: path, problem: problem)
  }

  func object(_ value: JSONValue?, _ path: String) throws -> [String: JSONValue] {
    guard let value else { throw fail(path, "missing (expected an object)") }
    guard case let .object(members) = value else { throw fail(path, "expected an object, found \(kind(value))") }
    return members
  }

  func array(_ value: JSONValue?, _ path: String) throws -> [JSONValue] {
    guard let value else { throw fail(path, "missing (expected an array)") }
    guard case let .array(items) = value else { throw fail(path, "expected an array, found \(kind(value))") }
    return items
  }

  func string(_ value: JSONValue?, _ path: String) throws -> String {
    guard let value else { throw fail(path, "missing (expected a string)") }
    guard case let .string(s) = value else { throw fail(path, "expected a string, found \(kind(value))") }
    return s
  }

  func int(_ value: JSONValue?, _ path: String) throws -> Int {
    guard let value else { throw fail(path, "missing (expected an integer)") }
    switch value {
    case let .int(i) where i.magnitude < 9_000_000_000_000_000: return Int(i)
    case let .double(n) where n == n.rounded() && abs(n) < 9.0e15: return Int(n)
    default: throw fail(path, "expected an integer, found \(kind(value))")
    }
  }

  func nonNegativeInt(_ value: JSONValue?, _ path: String) throws -> Int {
    let n = try int(value, path)
    guard n >= 0 else { throw fail(path, "expected a non-negative integer, found \(n)") }
    return n
  }

  func bool(_ value: JSONValue?, _ path: String) throws -> Bool {
    guard let value else { throw fail(path, "missing (expected a boolean)") }
    guard case let .bool(b) = value else { throw fail(path, "expected a boolean, found \(kind(value))") }
    return b
  }

  /// `nil` when absent or JSON null.
  func optional<T>(_ value: JSONValue?, _ path: String, _ read: (JSONValue?, String) throws -> T) throws -> T? {
    guard let value, value != .null else { return nil }
    return try read(value, path)
  }

  func kind(_ value: JSONValue) -> String {
    switch value {
    case .null: return "null"
    case .bool: return "a boolean"
    case let .int(i): return "the number \(Double(i))"
    case let .double(n): return "the number \(n)"
    case .string: return "a string"
    case .array: return "an array"
    case .object: return "an object"
    }
  }
}

/// Decoding of HF `tokenizer.json`.
enum TokenizerJSON {
  /// Reads tokenizer.json bytes; big BPE vocabularies take the scanner's fast path.
  static func configuration(bytes: [UInt8], file: String) throws -> TokenizerConfiguration {
    let fast: TokenizerConfiguration? = try bytes.withUnsafeBufferPointer { buffer in
      guard let sections = TokenizerJSONScanner.locate(buffer),
        let document = try? JSONValue.parse(TokenizerJSONScanner.stripped(buffer, sections))
      else { return nil }
      do {
        return try configuration(from: document, file: file, raw: (buffer, sections))
      } catch is TokenizerJSONScanner.Unavailable {
        return nil
      }
    }
    if let fast { return fast }
    return try configuration(from: ConfigurationFile.document(bytes, file: file), file: file)
  }

  static func configuration(
    from document: JSONValue, file: String, raw: BPERawSections? = nil
  ) throws -> TokenizerConfiguration {
    let r = JSONReader(file: file)
    let root = try r.object(document, "$")

    guard let modelValue = root["model"], modelValue != .null else {
      throw r.fail("model", "missing model section")
    }
    let model = try r.object(modelValue, "model")
    let modelType =
      try r.optional(model["type"], "model.type", r.string)
      ?? (model["vocab"] != nil && model["merges"] == nil ? "WordPiece" : "unknown")
    if modelType == "BPE" { return try bpeTokenizer(root, model, r, raw: raw) }
    guard modelType == "WordPiece" else {
      throw TokenizerError.unsupportedComponent(file: file, component: "model", type: modelType)
    }
    var vocab: [String: Int] = [:]
    let vocabObject = try r.object(model["vocab"], "model.vocab")
    vocab.reserveCapacity(vocabObject.count)
    for (token, id) in vocabObject {
      vocab[token] = try r.nonNegativeInt(id, "model.vocab[\(quoted(token))]")
    }
    let unkToken = try r.optional(model["unk_token"], "model.unk_token", r.string) ?? "[UNK]"
    let prefix = try r.optional(model["continuing_subword_prefix"], "model.continuing_subword_prefix", r.string) ?? "##"
    let maxChars =
      try r.optional(model["max_input_chars_per_word"], "model.max_input_chars_per_word", r.nonNegativeInt) ?? 100

    let addedTokens = try self.addedTokens(root, r)

    return TokenizerConfiguration(
      normalizer: try normalizer(root["normalizer"], r),
      preTokenizer: try preTokenizer(root["pre_tokenizer"], r),
      vocab: vocab, unkToken: unkToken, continuingSubwordPrefix: prefix, maxInputCharsPerWord: maxChars,
      postProcessor: try postProcessor(root["post_processor"], r),
      decoder: try decoder(root["decoder"], r),
      addedTokens: addedTokens,
      truncation: try truncation(root["truncation"], r),
      padding: try padding(root["padding"], r))
  }

  static func addedTokens(_ root: [String: JSONValue], _ r: JSONReader) throws -> [(id: Int, token: AddedToken)] {
    var addedTokens: [(id: Int, token: AddedToken)] = []
    if let items = try r.optional(root["added_tokens"], "added_tokens", r.array) {
      for (i, item) in items.enumerated() {
        let path = "added_tokens[\(i)]"
        let o = try r.object(item, path)
        let special = try r.optional(o["special"], "\(path).special", r.bool) ?? false
        let token = AddedToken(
          try r.string(o["content"], "\(path).content"), special: special,
          singleWord: try r.optional(o["single_word"], "\(path).single_word", r.bool) ?? false,
          lstrip: try r.optional(o["lstrip"], "\(path).lstrip", r.bool) ?? false,
          rstrip: try r.optional(o["rstrip"], "\(path).rstrip", r.bool) ?? false,
          normalized: try r.optional(o["normalized"], "\(path).normalized", r.bool) ?? !special)
        addedTokens.append((try r.nonNegativeInt(o["id"], "\(path).id"), token))
      }
    }
    return addedTokens
  }

  static func quoted(_ s: String) -> String { "\"" + s + "\"" }

  static func type(_ o: [String: JSONValue], _ path: String, _ r: JSONReader) throws -> String {
    try r.string(o["type"], "\(path).type")
  }

  static func normalizer(_ value: JSONValue?, _ r: JSONReader) throws -> BertNormalizer? {
    guard let value, value != .null else { return nil }
    let o = try r.object(value, "normalizer")
    let kind = try type(o, "normalizer", r)
    guard kind == "BertNormalizer" else {
      throw TokenizerError.unsupportedComponent(file: r.file, component: "normalizer", type: kind)
    }
    return BertNormalizer(
      cleanText: try r.optional(o["clean_text"], "normalizer.clean_text", r.bool) ?? true,
      handleChineseChars: try r.optional(o["handle_chinese_chars"], "normalizer.handle_chinese_chars", r.bool) ?? true,
      stripAccents: try r.optional(o["strip_accents"], "normalizer.strip_accents", r.bool),
      lowercase: try r.optional(o["lowercase"], "normalizer.lowercase", r.bool) ?? true)
  }

  static func preTokenizer(_ value: JSONValue?, _ r: JSONReader) throws -> BertPreTokenizer? {
    guard let value, value != .null else { return nil }
    let o = try r.object(value, "pre_tokenizer")
    let kind = try type(o, "pre_tokenizer", r)
    guard kind == "BertPreTokenizer" else {
      throw TokenizerError.unsupportedComponent(file: r.file, component: "pre_tokenizer", type: kind)
    }
    return BertPreTokenizer()
  }

  static func postProcessor(_ value: JSONValue?, _ r: JSONReader, path: String = "post_processor") throws
    -> TemplateProcessing?
  {
    guard let value, value != .null else { return nil }
    let o = try r.object(value, path)
    let kind = try type(o, path, r)
    switch kind {
    case "ByteLevel":
      return nil  // only trims offsets
    case "Sequence":
      var found: TemplateProcessing?
      for (i, item) in try r.array(o["processors"], "\(path).processors").enumerated() {
        guard let template = try postProcessor(item, r, path: "\(path).processors[\(i)]") else { continue }
        guard found == nil else {
          throw r.fail("\(path).processors", "more than one processor adds special tokens")
        }
        found = template
      }
      return found
    case "BertProcessing":
      func pair(_ key: String) throws -> (String, Int) {
        let items = try r.array(o[key], "post_processor.\(key)")
        guard items.count == 2 else { throw r.fail("post_processor.\(key)", "expected [token, id]") }
        return (
          try r.string(items[0], "post_processor.\(key)[0]"), try r.nonNegativeInt(items[1], "post_processor.\(key)[1]")
        )
      }
      let cls = try pair("cls")
      let sep = try pair("sep")
      return .bert(cls: cls, sep: sep)
    case "TemplateProcessing":
      func pieces(_ key: String) throws -> [TemplateProcessing.Piece] {
        try r.array(o[key], "post_processor.\(key)").enumerated().map { i, item in
          let path = "post_processor.\(key)[\(i)]"
          let piece = try r.object(item, path)
          if let special = piece["SpecialToken"] {
            let s = try r.object(special, "\(path).SpecialToken")
            return .special(
              name: try r.string(s["id"], "\(path).SpecialToken.id"),
              typeId: try r.nonNegativeInt(s["type_id"], "\(path).SpecialToken.type_id"))
          }
          if let sequence = piece["Sequence"] {
            let s = try r.object(sequence, "\(path).Sequence")
            let id = try r.string(s["id"], "\(path).Sequence.id")
            guard id == "A" || id == "B" else {
              throw r.fail("\(path).Sequence.id", "expected \"A\" or \"B\", found \(quoted(id))")
            }
            return .sequence(isPair: id == "B", typeId: try r.nonNegativeInt(s["type_id"], "\(path).Sequence.type_id"))
          }
          throw r.fail(path, "expected a SpecialToken or Sequence piece")
        }
      }
      var specials: [String: TemplateProcessing.SpecialToken] = [:]
      let specialEntries: [String: JSONValue] =
        try r.optional(o["special_tokens"], "post_processor.special_tokens", r.object) ?? [:]
      for (name, entry) in specialEntries {
        let path = "post_processor.special_tokens[\(quoted(name))]"
        let e = try r.object(entry, path)
        let ids = try r.array(e["ids"], "\(path).ids").enumerated().map {
          try r.nonNegativeInt($1, "\(path).ids[\($0)]")
        }
        let tokens = try r.array(e["tokens"], "\(path).tokens").enumerated().map {
          try r.string($1, "\(path).tokens[\($0)]")
        }
        specials[name] = .init(ids: ids, tokens: tokens)
      }
      let template = TemplateProcessing(single: try pieces("single"), pair: try pieces("pair"), specialTokens: specials)
      for piece in template.single + template.pair {
        if case let .special(name, _) = piece, specials[name] == nil {
          throw r.fail("post_processor.special_tokens", "missing entry for template token \(quoted(name))")
        }
      }
      return template
    default:
      throw TokenizerError.unsupportedComponent(file: r.file, component: "post_processor", type: kind)
    }
  }

  static func decoder(_ value: JSONValue?, _ r: JSONReader) throws -> WordPieceDecoder? {
    guard let value, value != .null else { return nil }
    let o = try r.object(value, "decoder")
    let kind = try type(o, "decoder", r)
    guard kind == "WordPiece" else {
      throw TokenizerError.unsupportedComponent(file: r.file, component: "decoder", type: kind)
    }
    return WordPieceDecoder(
      prefix: try r.optional(o["prefix"], "decoder.prefix", r.string) ?? "##",
      cleanup: try r.optional(o["cleanup"], "decoder.cleanup", r.bool) ?? true)
  }

  static func direction(_ value: JSONValue?, _ path: String, _ r: JSONReader) throws -> Direction {
    switch try r.optional(value, path, r.string) ?? "Right" {
    case "Right": return .right
    case "Left": return .left
    case let other: throw r.fail(path, "expected \"Left\" or \"Right\", found \(quoted(other))")
    }
  }

  static func truncation(_ value: JSONValue?, _ r: JSONReader) throws -> Truncation? {
    guard let value, value != .null else { return nil }
    let o = try r.object(value, "truncation")
    let strategy: TruncationStrategy
    switch try r.optional(o["strategy"], "truncation.strategy", r.string) ?? "LongestFirst" {
    case "LongestFirst": strategy = .longestFirst
    case "OnlyFirst": strategy = .onlyFirst
    case "OnlySecond": strategy = .onlySecond
    case let other: throw r.fail("truncation.strategy", "unknown strategy \(quoted(other))")
    }
    return Truncation(
      maxLength: try r.nonNegativeInt(o["max_length"], "truncation.max_length"), strategy: strategy,
      stride: try r.optional(o["stride"], "truncation.stride", r.nonNegativeInt) ?? 0,
      direction: try direction(o["direction"], "truncation.direction", r))
  }

  static func padding(_ value: JSONValue?, _ r: JSONReader) throws -> Padding? {
    guard let value, value != .null else { return nil }
    let o = try r.object(value, "padding")
    let strategy: PaddingStrategy
    switch o["strategy"] {
    case nil, .string("BatchLongest")?: strategy = .batchLongest
    case let .object(fixed)? where fixed["Fixed"] != nil:
      strategy = .fixed(try r.nonNegativeInt(fixed["Fixed"], "padding.strategy.Fixed"))
    default: throw r.fail("padding.strategy", "expected \"BatchLongest\" or {\"Fixed\": n}")
    }
    return Padding(
      strategy: strategy, direction: try direction(o["direction"], "padding.direction", r),
      padToMultipleOf: try r.optional(o["pad_to_multiple_of"], "padding.pad_to_multiple_of", r.nonNegativeInt),
      padId: try r.optional(o["pad_id"], "padding.pad_id", r.nonNegativeInt) ?? 0,
      padTypeId: try r.optional(o["pad_type_id"], "padding.pad_type_id", r.nonNegativeInt) ?? 0,
      padToken: try r.optional(o["pad_token"], "padding.pad_token", r.string) ?? "[PAD]")
  }
}
