import Foundation
import JSONSupport

/// Builds a configuration from `vocab.txt` + `tokenizer_config.json` (+ `special_tokens_map.json`)
/// the way transformers' `BertTokenizerFast` converts a slow `BertTokenizer`
/// (`convert_slow_tokenizer.BertConverter`): `BertNormalizer(clean_text: true,
/// handle_chinese_chars: tokenize_chinese_chars, strip_accents, lowercase: do_lower_case)`,
/// `BertPreTokenizer`, `WordPiece("##", 100 chars)`, the `[CLS] $A [SEP] ($B [SEP])` template
/// and the WordPiece decoder; the special tokens become non-normalized special added tokens.
enum BertVocabFiles {
  static func configuration(directory: String) throws -> TokenizerConfiguration {
    let vocabPath = (directory as NSString).appendingPathComponent("vocab.txt")
    let configPath = (directory as NSString).appendingPathComponent("tokenizer_config.json")
    let mapPath = (directory as NSString).appendingPathComponent("special_tokens_map.json")

    let vocabBytes = try ConfigurationFile.bytes(at: vocabPath)
    var vocab: [String: Int] = [:]
    var ordered: [String] = []
    // Python text mode: universal newlines, then `rstrip("\n")` of each line.
    var line: [UInt8] = []
    var i = 0
    func flush() {
      let token = String(decoding: line, as: UTF8.self)
      vocab[token] = ordered.count
      ordered.append(token)
      line.removeAll(keepingCapacity: true)
    }
    while i < vocabBytes.count {
      let b = vocabBytes[i]
      if b == 0x0A || b == 0x0D {
        flush()
        if b == 0x0D, i + 1 < vocabBytes.count, vocabBytes[i + 1] == 0x0A { i += 1 }
      } else {
        line.append(b)
      }
      i += 1
    }
    if !line.isEmpty { flush() }
    guard !vocab.isEmpty else {
      throw TokenizerError.invalidConfiguration(file: vocabPath, path: "-", problem: "the vocabulary is empty")
    }

    var settings: [String: JSONValue] = [:]
    if FileManager.default.fileExists(atPath: configPath) {
      settings = try JSONReader(file: configPath).object(ConfigurationFile.json(at: configPath), "$")
    }
    var specialMap: [String: JSONValue] = [:]
    if FileManager.default.fileExists(atPath: mapPath) {
      specialMap = try JSONReader(file: mapPath).object(ConfigurationFile.json(at: mapPath), "$")
    }
    let r = JSONReader(file: configPath)

    /// A special token given as a string or as an AddedToken dictionary; the map file wins.
    func specialToken(_ key: String, default fallback: String) throws -> AddedToken {
      let (value, reader) = specialMap[key].map { ($0, JSONReader(file: mapPath)) } ?? (settings[key], r)
      switch value {
      case nil, .null?: return AddedToken(fallback, special: true, normalized: false)
      case let .string(s)?: return AddedToken(s, special: true, normalized: false)
      case let value?: return try addedToken(value, key, reader, special: true)
      }
    }

    let unk = try specialToken("unk_token", default: "[UNK]")
    let sep = try specialToken("sep_token", default: "[SEP]")
    let pad = try specialToken("pad_token", default: "[PAD]")
    let cls = try specialToken("cls_token", default: "[CLS]")
    let mask = try specialToken("mask_token", default: "[MASK]")
    var specials = [unk, sep, pad, cls, mask]
    let additionalKey = "additional_special_tokens"
    if let extra = specialMap[additionalKey] ?? settings[additionalKey], extra != .null {
      let reader = specialMap[additionalKey] != nil ? JSONReader(file: mapPath) : r
      for (k, item) in try reader.array(extra, additionalKey).enumerated() {
        if case let .string(s) = item {
          specials.append(AddedToken(s, special: true, normalized: false))
        } else {
          specials.append(try addedToken(item, "\(additionalKey)[\(k)]", reader, special: true))
        }
      }
    }

    // Tokens declared in tokenizer_config.json's `added_tokens_decoder` keep their ids.
    var added: [(id: Int, token: AddedToken)] = []
    if let decoder = try r.optional(settings["added_tokens_decoder"], "added_tokens_decoder", r.object) {
      for (key, value) in decoder.sorted(by: { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }) {
        guard let id = Int(key), id >= 0 else {
          throw r.fail("added_tokens_decoder", "key \"\(key)\" is not a token id")
        }
        added.append((id, try addedToken(value, "added_tokens_decoder[\"\(key)\"]", r, special: false)))
      }
    }
    var nextId = max(vocab.count, (added.map(\.id).max() ?? -1) + 1)
    for token in specials where !added.contains(where: { $0.token.content == token.content }) {
      if let id = vocab[token.content] {
        added.append((id, token))
      } else {
        added.append((nextId, token))
        nextId += 1
      }
    }
    func id(of token: AddedToken) -> Int? {
      added.first(where: { $0.token.content == token.content })?.id ?? vocab[token.content]
    }

    let lowercase = try r.optional(settings["do_lower_case"], "do_lower_case", r.bool) ?? true
    let normalizer = BertNormalizer(
      cleanText: true,
      handleChineseChars: try r.optional(settings["tokenize_chinese_chars"], "tokenize_chinese_chars", r.bool) ?? true,
      stripAccents: try r.optional(settings["strip_accents"], "strip_accents", r.bool),
      lowercase: lowercase)
    var template: TemplateProcessing?
    if let clsId = id(of: cls), let sepId = id(of: sep) {
      template = .bert(cls: (cls.content, clsId), sep: (sep.content, sepId))
    }
    return TokenizerConfiguration(
      normalizer: normalizer, preTokenizer: BertPreTokenizer(), vocab: vocab, unkToken: unk.content,
      continuingSubwordPrefix: "##", maxInputCharsPerWord: 100, postProcessor: template,
      decoder: WordPieceDecoder(prefix: "##", cleanup: true), addedTokens: added, truncation: nil, padding: nil)
  }

  /// Reads an AddedToken dictionary (`{"content": ..., "lstrip": ..., ...}`).
  static func addedToken(_ value: JSONValue, _ path: String, _ r: JSONReader, special: Bool) throws -> AddedToken {
    let o = try r.object(value, path)
    let isSpecial = try r.optional(o["special"], "\(path).special", r.bool) ?? special
    return AddedToken(
      try r.string(o["content"], "\(path).content"), special: isSpecial,
      singleWord: try r.optional(o["single_word"], "\(path).single_word", r.bool) ?? false,
      lstrip: try r.optional(o["lstrip"], "\(path).lstrip", r.bool) ?? false,
      rstrip: try r.optional(o["rstrip"], "\(path).rstrip", r.bool) ?? false,
      normalized: try r.optional(o["normalized"], "\(path).normalized", r.bool) ?? !isSpecial)
  }
}
