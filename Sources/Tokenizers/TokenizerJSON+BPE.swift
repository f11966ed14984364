import JSONSupport

/// Decoding of tokenizer.json files whose model is BPE (GPT-2, Llama, Mistral, Qwen, ...).
extension TokenizerJSON {
  static func bpeTokenizer(
    _ root: [String: JSONValue], _ model: [String: JSONValue], _ r: JSONReader, raw: RawSections?
  ) throws
    -> TokenizerConfiguration
  {
    let normalizer = try bpeNormalizer(root["normalizer"], "normalizer", r)
    let preTokenizer = try bpePreTokenizer(root["pre_tokenizer"], "pre_tokenizer", r)
    var compiledNormalizer: CompiledNormalizer?
    var compiledPreTokenizer: CompiledPreTokenizer?
    do {
      compiledNormalizer = try normalizer.map { try CompiledNormalizer($0) }
    } catch {
      throw r.fail("normalizer", "cannot compile its pattern: \(error)")
    }
    do {
      compiledPreTokenizer = try preTokenizer.map { try CompiledPreTokenizer($0) }
    } catch PreTokenizerError.byteLevelNotLast {
      throw r.fail("pre_tokenizer", "ByteLevel must be the last pre-tokenizer of a sequence")
    } catch {
      throw r.fail("pre_tokenizer", "cannot compile its pattern: \(error)")
    }
    let bpe = try bpeModel(model, byteLevel: compiledPreTokenizer?.byteLevel ?? false, r, raw: raw)
    let configuration = BPEConfiguration(
      normalizer: compiledNormalizer, preTokenizer: compiledPreTokenizer, model: bpe,
      decoder: try bpeDecoder(root["decoder"], "decoder", r))
    return TokenizerConfiguration(
      normalizer: nil, preTokenizer: nil, vocab: [:], unkToken: "", continuingSubwordPrefix: "",
      maxInputCharsPerWord: 0, postProcessor: try postProcessor(root["post_processor"], r), decoder: nil,
      addedTokens: try addedTokens(root, r), truncation: try truncation(root["truncation"], r),
      padding: try padding(root["padding"], r), bpe: configuration)
  }

  /// The raw document and where its big sections are (the fast path), when the scanner found them.
  typealias RawSections = BPERawSections

  static func bpeModel(_ o: [String: JSONValue], byteLevel: Bool, _ r: JSONReader, raw: RawSections?) throws -> BPE {
    if let dropout = try r.optional(o["dropout"], "model.dropout", { v, p in try r.number(v, p) }), dropout != 0 {
      throw r.fail("model.dropout", "BPE dropout \(dropout) is not supported (only null or 0)")
    }
    let prefix = try r.optional(o["continuing_subword_prefix"], "model.continuing_subword_prefix", r.string)
    var builder: BPEVocabularyBuilder
    do {
      if let raw {
        builder = BPEVocabularyBuilder(
          byteLevel: byteLevel, continuingSubwordPrefix: prefix, vocabularySize: raw.sections.vocab.count / 12,
          mergeCount: (raw.sections.merges?.count ?? 0) / 12)
        try TokenizerJSONScanner.readVocabulary(raw.bytes.baseAddress!, raw.sections.vocab, into: &builder)
        if let merges = raw.sections.merges {
          try TokenizerJSONScanner.readMerges(raw.bytes.baseAddress!, merges, into: &builder)
        }
      } else {
        builder = try vocabulary(o, byteLevel: byteLevel, prefix: prefix, r)
      }
    } catch let error as BPE.BuildError {
      throw bpeError(error, r)
    }
    func nonEmpty(_ key: String) throws -> String? {
      guard let s = try r.optional(o[key], "model.\(key)", r.string), !s.isEmpty else { return nil }
      return s
    }
    do {
      return try BPE(
        vocabulary: builder, unkToken: try nonEmpty("unk_token"),
        fuseUnk: try r.optional(o["fuse_unk"], "model.fuse_unk", r.bool) ?? false,
        byteFallback: try r.optional(o["byte_fallback"], "model.byte_fallback", r.bool) ?? false,
        continuingSubwordPrefix: prefix?.isEmpty == false ? prefix : nil,
        endOfWordSuffix: try nonEmpty("end_of_word_suffix"),
        ignoreMerges: try r.optional(o["ignore_merges"], "model.ignore_merges", r.bool) ?? false)
    } catch let error as BPE.BuildError {
      throw bpeError(error, r)
    }
  }

  static func bpeError(_ error: BPE.BuildError, _ r: JSONReader) -> TokenizerError {
    switch error {
    case let .unknownToken(i, token):
      return r.fail("model.merges[\(i)]", "merge refers to \(quoted(token)), which is not in the vocabulary")
    case let .unknownMergeResult(i, token):
      return r.fail("model.merges[\(i)]", "the merged token \(quoted(token)) is not in the vocabulary")
    case let .unknownUnk(token):
      return r.fail("model.unk_token", "\(quoted(token)) is not in the vocabulary")
    }
  }

  /// The vocabulary and merges from the parsed document (the general path).
  static func vocabulary(_ o: [String: JSONValue], byteLevel: Bool, prefix: String?, _ r: JSONReader) throws
    -> BPEVocabularyBuilder
  {
    let vocabObject = try r.object(o["vocab"], "model.vocab")
    let mergeItems = try r.array(o["merges"] ?? .array([]), "model.merges")
    var builder = BPEVocabularyBuilder(
      byteLevel: byteLevel, continuingSubwordPrefix: prefix, vocabularySize: vocabObject.count,
      mergeCount: mergeItems.count)
    for (token, id) in vocabObject {
      let n = try r.nonNegativeInt(id, "model.vocab[\(quoted(token))]")
      guard n < Int32.max else { throw r.fail("model.vocab[\(quoted(token))]", "id \(n) is too large") }
      var t = token
      t.withUTF8 { builder.addToken($0, id: n) }
    }
    for (i, item) in mergeItems.enumerated() {
      var a: String
      var b: String
      switch item {
      case let .string(line):
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
          throw r.fail("model.merges[\(i)]", "expected two tokens separated by one space, found \(quoted(line))")
        }
        (a, b) = (String(parts[0]), String(parts[1]))
      case let .array(pair) where pair.count == 2:
        (a, b) = (try r.string(pair[0], "model.merges[\(i)][0]"), try r.string(pair[1], "model.merges[\(i)][1]"))
      default:
        throw r.fail("model.merges[\(i)]", "expected \"a b\" or [\"a\", \"b\"]")
      }
      try a.withUTF8 { a in try b.withUTF8 { b in try builder.addMerge(a, b) } }
    }
    return builder
  }

  /// A `{"String": s}` or `{"Regex": s}` pattern.
  static func pattern(_ value: JSONValue?, _ path: String, _ r: JSONReader) throws -> (String, isRegex: Bool) {
    let o = try r.object(value, path)
    if let s = o["String"] { return (try r.string(s, "\(path).String"), false) }
    if let s = o["Regex"] { return (try r.string(s, "\(path).Regex"), true) }
    throw r.fail(path, "expected {\"String\": ...} or {\"Regex\": ...}")
  }

  static func scalar(_ value: JSONValue?, _ path: String, _ r: JSONReader) throws -> Unicode.Scalar {
    let s = try r.string(value, path)
    guard s.unicodeScalars.count == 1, let c = s.unicodeScalars.first else {
      throw r.fail(path, "expected one character, found \(quoted(s))")
    }
    return c
  }

  static func bpeNormalizer(_ value: JSONValue?, _ path: String, _ r: JSONReader) throws -> Normalizer? {
    guard let value, value != .null else { return nil }
    let o = try r.object(value, path)
    let kind = try type(o, path, r)
    switch kind {
    case "NFC": return .nfc
    case "NFD": return .nfd
    case "NFKC": return .nfkc
    case "NFKD": return .nfkd
    case "Lowercase": return .lowercase
    case "Prepend": return .prepend(try r.string(o["prepend"], "\(path).prepend"))
    case "Replace":
      let (p, isRegex) = try pattern(o["pattern"], "\(path).pattern", r)
      return .replace(pattern: p, isRegex: isRegex, content: try r.string(o["content"], "\(path).content"))
    case "Strip":
      return .strip(
        left: try r.optional(o["strip_left"], "\(path).strip_left", r.bool) ?? true,
        right: try r.optional(o["strip_right"], "\(path).strip_right", r.bool) ?? true)
    case "Sequence":
      let items = try r.array(o["normalizers"], "\(path).normalizers")
      return .sequence(
        try items.enumerated().compactMap { try bpeNormalizer($1, "\(path).normalizers[\($0)]", r) })
    default:
      throw TokenizerError.unsupportedComponent(file: r.file, component: path, type: kind)
    }
  }

  static func prependScheme(_ o: [String: JSONValue], _ path: String, _ r: JSONReader) throws -> PrependScheme {
    if let name = try r.optional(o["prepend_scheme"], "\(path).prepend_scheme", r.string) {
      guard let scheme = PrependScheme(rawValue: name) else {
        throw r.fail("\(path).prepend_scheme", "expected \"always\", \"first\" or \"never\", found \(quoted(name))")
      }
      return scheme
    }
    // Files written before `prepend_scheme` existed have `add_prefix_space`.
    return try r.optional(o["add_prefix_space"], "\(path).add_prefix_space", r.bool) ?? true ? .always : .never
  }

  static func bpePreTokenizer(_ value: JSONValue?, _ path: String, _ r: JSONReader) throws -> PreTokenizer? {
    guard let value, value != .null else { return nil }
    let o = try r.object(value, path)
    let kind = try type(o, path, r)
    switch kind {
    case "ByteLevel":
      return .byteLevel(
        ByteLevel(
          addPrefixSpace: try r.optional(o["add_prefix_space"], "\(path).add_prefix_space", r.bool) ?? true,
          trimOffsets: try r.optional(o["trim_offsets"], "\(path).trim_offsets", r.bool) ?? true,
          useRegex: try r.optional(o["use_regex"], "\(path).use_regex", r.bool) ?? true))
    case "Split":
      let (p, isRegex) = try pattern(o["pattern"], "\(path).pattern", r)
      let name = try r.string(o["behavior"], "\(path).behavior")
      guard let behavior = SplitDelimiterBehavior(rawValue: name) else {
        throw r.fail("\(path).behavior", "unknown split behavior \(quoted(name))")
      }
      return .split(
        pattern: p, isRegex: isRegex, behavior: behavior,
        invert: try r.optional(o["invert"], "\(path).invert", r.bool) ?? false)
    case "Metaspace":
      return .metaspace(
        replacement: try scalar(o["replacement"], "\(path).replacement", r),
        prependScheme: try prependScheme(o, path, r),
        split: try r.optional(o["split"], "\(path).split", r.bool) ?? true)
    case "Digits":
      return .digits(
        individualDigits: try r.optional(o["individual_digits"], "\(path).individual_digits", r.bool) ?? false)
    case "Whitespace": return .whitespace
    case "WhitespaceSplit": return .whitespaceSplit
    case "Sequence":
      let items = try r.array(o["pretokenizers"], "\(path).pretokenizers")
      return .sequence(
        try items.enumerated().compactMap { try bpePreTokenizer($1, "\(path).pretokenizers[\($0)]", r) })
    default:
      throw TokenizerError.unsupportedComponent(file: r.file, component: path, type: kind)
    }
  }

  static func bpeDecoder(_ value: JSONValue?, _ path: String, _ r: JSONReader) throws -> Decoder? {
    guard let value, value != .null else { return nil }
    let o = try r.object(value, path)
    let kind = try type(o, path, r)
    switch kind {
    case "ByteLevel": return .byteLevel
    case "Metaspace":
      return .metaspace(
        replacement: try scalar(o["replacement"], "\(path).replacement", r),
        prependScheme: try prependScheme(o, path, r),
        split: try r.optional(o["split"], "\(path).split", r.bool) ?? true)
    case "Replace":
      let (p, isRegex) = try pattern(o["pattern"], "\(path).pattern", r)
      if isRegex {
        do { _ = try SplitPattern.regex(p) } catch { throw r.fail("\(path).pattern", "cannot compile \(error)") }
      }
      return .replace(pattern: p, isRegex: isRegex, content: try r.string(o["content"], "\(path).content"))
    case "ByteFallback": return .byteFallback
    case "Fuse": return .fuse
    case "Strip":
      return .strip(
        content: try scalar(o["content"], "\(path).content", r),
        start: try r.optional(o["start"], "\(path).start", r.nonNegativeInt) ?? 0,
        stop: try r.optional(o["stop"], "\(path).stop", r.nonNegativeInt) ?? 0)
    case "BPEDecoder":
      return .bpe(suffix: try r.optional(o["suffix"], "\(path).suffix", r.string) ?? "</w>")
    case "WordPiece":
      return .wordPiece(
        WordPieceDecoder(
          prefix: try r.optional(o["prefix"], "\(path).prefix", r.string) ?? "##",
          cleanup: try r.optional(o["cleanup"], "\(path).cleanup", r.bool) ?? true))
    case "Sequence":
      let items = try r.array(o["decoders"], "\(path).decoders")
      return .sequence(try items.enumerated().compactMap { try bpeDecoder($1, "\(path).decoders[\($0)]", r) })
    default:
      throw TokenizerError.unsupportedComponent(file: r.file, component: path, type: kind)
    }
  }
}

extension JSONReader {
  func number(_ value: JSONValue?, _ path: String) throws -> Double {
    guard let value, let n = value.number else { throw fail(path, "expected a number") }
    return n
  }
}

/// The raw document and where its big sections are.
typealias BPERawSections = (bytes: UnsafeBufferPointer<UInt8>, sections: TokenizerJSONScanner.Sections)
