import Dispatch
import Foundation

/// A Hugging Face compatible tokenizer for the BERT family (WordPiece).
///
/// Pipeline, as in HF `tokenizers`: added tokens are split out of the raw text, the rest is
/// normalized (`BertNormalizer`), split into words (`BertPreTokenizer`), segmented
/// (`WordPiece`), truncated, post-processed (`TemplateProcessing`) and padded.
///
/// `Tokenizer` is a value: `truncation` and `padding` can be changed on a copy; the
/// vocabulary and tables are shared and immutable, so a tokenizer can be used from many
/// threads at once.
public struct Tokenizer: Sendable {
  let core: TokenizerCore
  /// Truncation applied by `encode` (nil: none). Loaded from tokenizer.json's `truncation`.
  /// `setTruncation(_:)` also runs HF's check of the stride.
  public var truncation: Truncation?
  /// Padding applied by `encode`/`encodeBatch` (nil: none). Loaded from tokenizer.json's `padding`.
  public var padding: Padding?

  init(configuration: TokenizerConfiguration) {
    core = TokenizerCore(configuration)
    truncation = configuration.truncation
    padding = configuration.padding
  }

  /// Loads a tokenizer folder: `tokenizer.json` when present, otherwise `vocab.txt` with
  /// `tokenizer_config.json` and `special_tokens_map.json`, converted as transformers'
  /// `BertTokenizerFast` does.
  public init(directory: String) throws {
    let json = (directory as NSString).appendingPathComponent("tokenizer.json")
    let vocab = (directory as NSString).appendingPathComponent("vocab.txt")
    if FileManager.default.fileExists(atPath: json) {
      try self.init(tokenizerJSON: json)
    } else if FileManager.default.fileExists(atPath: vocab) {
      try self.init(bertVocabularyDirectory: directory)
    } else {
      throw TokenizerError.noTokenizerFiles(directory: directory)
    }
  }

  /// Loads a tokenizer folder (see `init(directory:)`).
  public init(directory: URL) throws {
    try self.init(directory: directory.path)
  }

  /// Loads an HF `tokenizer.json` file.
  public init(tokenizerJSON path: String) throws {
    try self.init(tokenizerJSONBytes: ConfigurationFile.bytes(at: path), fileName: path)
  }

  /// Loads HF `tokenizer.json` content; `fileName` is used in error messages.
  public init(tokenizerJSONBytes bytes: [UInt8], fileName: String = "tokenizer.json") throws {
    self.init(configuration: try TokenizerJSON.configuration(bytes: bytes, file: fileName))
  }

  /// Builds the tokenizer from `vocab.txt` + `tokenizer_config.json` (+ `special_tokens_map.json`)
  /// even when a `tokenizer.json` exists.
  public init(bertVocabularyDirectory directory: String) throws {
    self.init(configuration: try BertVocabFiles.configuration(directory: directory))
  }

  /// Builds a BERT tokenizer from a vocabulary (token to id).
  public init(
    vocabulary: [String: Int], normalizer: BertNormalizer? = BertNormalizer(),
    preTokenizer: BertPreTokenizer? = BertPreTokenizer(), unkToken: String = "[UNK]",
    continuingSubwordPrefix: String = "##", maxInputCharsPerWord: Int = 100,
    postProcessor: TemplateProcessing? = nil, decoder: WordPieceDecoder? = WordPieceDecoder(),
    addedTokens: [(id: Int, token: AddedToken)] = []
  ) {
    self.init(
      configuration: TokenizerConfiguration(
        normalizer: normalizer, preTokenizer: preTokenizer, vocab: vocabulary, unkToken: unkToken,
        continuingSubwordPrefix: continuingSubwordPrefix, maxInputCharsPerWord: maxInputCharsPerWord,
        postProcessor: postProcessor, decoder: decoder, addedTokens: addedTokens, truncation: nil, padding: nil))
  }

  // MARK: Vocabulary

  /// The normalizer, if any.
  public var normalizer: BertNormalizer? { core.configuration.value.normalizer }
  /// The post-processor, if any.
  public var postProcessor: TemplateProcessing? { core.configuration.value.postProcessor }
  /// Added tokens with their ids, sorted by id.
  public var addedTokens: [(id: Int, token: AddedToken)] {
    core.added.tokensById.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
  }

  /// Number of distinct tokens, added tokens included (HF `get_vocab_size(with_added_tokens=True)`).
  public var vocabularySize: Int { core.vocabularySize }

  /// Id of a token (added tokens first, then the model vocabulary).
  public func tokenToId(_ token: String) -> Int? {
    core.tokenToId(token)
  }

  /// Token string of an id (added tokens first, then the model vocabulary).
  public func idToToken(_ id: Int) -> String? {
    core.idVocabulary.token(for: id)
  }

  /// Adds tokens (HF `add_tokens` / `add_special_tokens`): a content already in the vocabulary keeps
  /// its id, new ones get the next free id. Returns how many tokens were new or changed.
  @discardableResult
  public mutating func addTokens(_ tokens: [AddedToken]) -> Int {
    var current = core.configuration.value.addedTokens
    var byContent: [String: Int] = [:]
    for (index, entry) in current.enumerated() { byContent[entry.token.content] = index }
    let vocabSize = core.bpe?.model.count ?? core.model.vocab.count
    var nextId = vocabSize
    if let maxAdded = current.map(\.id).max(), maxAdded >= vocabSize || vocabSize == 0 { nextId = maxAdded + 1 }
    var changed = 0
    for token in tokens where !token.content.isEmpty {
      if let index = byContent[token.content] {
        if current[index].token != token {
          current[index].token = token
          changed += 1
        }
        continue
      }
      let id: Int
      if let existing = core.bpe.map({ $0.model.id(of: token.content).map(Int.init) })
        ?? core.model.vocab[token.content]
      {
        id = existing
      } else {
        id = nextId
        nextId += 1
      }
      byContent[token.content] = current.count
      current.append((id, token))
      changed += 1
    }
    var configuration = core.configuration.value
    configuration.addedTokens = current
    let (truncation, padding) = (self.truncation, self.padding)
    self = Tokenizer(configuration: configuration)
    self.truncation = truncation
    self.padding = padding
    return changed
  }

  /// Sets `truncation` as HF's `enable_truncation` does: a `stride` larger than `maxLength` minus the
  /// special tokens added to a single sequence is refused (a larger one could never advance a window).
  public mutating func setTruncation(_ truncation: Truncation?) throws {
    if let t = truncation {
      let added = core.configuration.value.postProcessor?.addedTokens(isPair: false) ?? 0
      if added <= t.maxLength, t.maxLength - added < t.stride {
        throw TokenizerError.truncationParameters(
          "tokenizer stride set to \(t.stride), which is greater than or equal to its effective max length of \(t.maxLength - added) (= \(t.maxLength) original max length - \(added) added special tokens), "
        )
      }
    }
    self.truncation = truncation
  }

  // MARK: Encoding

  /// Encodes one sequence, or a pair when `pair` is given.
  ///
  /// Throws only for configuration problems HF also rejects (a missing unknown token,
  /// `onlySecond` truncation without a pair, a sequence too short for `onlyFirst`/`onlySecond`).
  public func encode(_ text: String, pair: String? = nil, addSpecialTokens: Bool = true) throws -> Encoding {
    let box = WorkspaceBox.current
    var encoding = try core.encode(
      text, pair: pair, addSpecialTokens: addSpecialTokens, truncation: truncation,
      workspace: &box.workspace)
    if let padding { encoding.pad(to: padding.targetLength(for: [encoding]), with: padding) }
    return encoding
  }

  /// Encodes many sequences on all cores; padding (if configured) is applied across the batch.
  public func encodeBatch(_ texts: [String], addSpecialTokens: Bool = true) throws -> [Encoding] {
    try encodeBatch(count: texts.count, addSpecialTokens: addSpecialTokens) { (texts[$0], nil) }
  }

  /// Encodes many pairs on all cores; padding (if configured) is applied across the batch.
  public func encodeBatch(pairs: [(String, String)], addSpecialTokens: Bool = true) throws -> [Encoding] {
    try encodeBatch(count: pairs.count, addSpecialTokens: addSpecialTokens) { (pairs[$0].0, pairs[$0].1) }
  }

  private func encodeBatch(
    count: Int, addSpecialTokens: Bool,
    input: (Int) -> (String, String?)
  ) throws -> [Encoding] {
    var results = [Encoding?](repeating: nil, count: count)
    let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
    let chunks = min(count, cores * 8)
    var errors = [Error?](repeating: nil, count: chunks)
    if chunks > 0 {
      let core = self.core
      let truncation = self.truncation
      results.withUnsafeMutableBufferPointer { output in
        errors.withUnsafeMutableBufferPointer { failures in
          DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let box = WorkspaceBox.current
            let lower = count * chunk / chunks
            let upper = count * (chunk + 1) / chunks
            do {
              for i in lower..<upper {
                let (text, pair) = input(i)
                output[i] = try core.encode(
                  text, pair: pair, addSpecialTokens: addSpecialTokens,
                  truncation: truncation, workspace: &box.workspace)
              }
            } catch {
              failures[chunk] = error
            }
          }
        }
      }
    }
    if let error = errors.lazy.compactMap({ $0 }).first { throw error }
    var encodings: [Encoding] = []
    encodings.reserveCapacity(count)
    for i in results.indices {
      if let encoding = results[i].take() { encodings.append(encoding) }
    }
    padding?.apply(to: &encodings)
    return encodings
  }

  // MARK: Decoding

  /// Decodes ids into text (HF `decode`): unknown ids are ignored, special tokens are
  /// skipped when `skipSpecialTokens`, and the decoder (WordPiece) joins the pieces.
  public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
    var tokens: [String] = []
    tokens.reserveCapacity(ids.count)
    for id in ids {
      guard let token = core.idVocabulary.token(for: id) else { continue }
      if skipSpecialTokens && core.added.specialContents.contains(token) { continue }
      tokens.append(token)
    }
    return core.decode(tokens)
  }

  /// Decodes several id sequences.
  public func decodeBatch(_ batch: [[Int]], skipSpecialTokens: Bool = true) -> [String] {
    batch.map { decode($0, skipSpecialTokens: skipSpecialTokens) }
  }
}
