import ChatTemplates
import Foundation
import Tokenizers
import Torch

/// One training example of a causal language model: token ids and labels (-100 where no loss is taken).
public struct CausalLMExample: Equatable, Sendable {
  public var inputIds: [Int]
  public var labels: [Int]

  public init(inputIds: [Int], labels: [Int]) {
    self.inputIds = inputIds
    self.labels = labels
  }
}

/// Preparing causal-LM data as the Hugging Face recipes do.
public enum CausalLMData {
  /// The label that takes no loss (PyTorch's `ignore_index`).
  public static let ignoreIndex = -100

  /// Plain text (`run_clm.py`'s recipe): each non-empty line tokenized (with the tokenizer's special tokens),
  /// everything concatenated and cut into blocks of `blockSize` tokens (the remainder dropped); labels = ids.
  public static func packedText(_ lines: [String], tokenizer: Tokenizer, blockSize: Int) throws -> [CausalLMExample] {
    guard blockSize > 1 else { throw TrainingError("--block-size must be at least 2, got \(blockSize)") }
    var stream: [Int] = []
    for line in lines where !line.isEmpty { stream += try tokenizer.encode(line).ids }
    let count = stream.count / blockSize
    guard count > 0 else {
      throw TrainingError(
        "the text holds \(stream.count) tokens, fewer than one block of \(blockSize): use a smaller --block-size")
    }
    return (0..<count).map { i in
      let block = Array(stream[(i * blockSize)..<((i + 1) * blockSize)])
      return CausalLMExample(inputIds: block, labels: block)
    }
  }

  /// A conversation rendered with the chat template, the loss on the assistant's tokens only. Each assistant
  /// message's tokens are those the conversation up to and including it adds to the prompt up to it with the
  /// generation prompt (the prompt the model would see at generation time); every other token is masked.
  public static func chat(
    _ messages: [ChatMessage], template: ChatTemplate, tokenizer: Tokenizer, maxLength: Int, line: Int? = nil
  ) throws -> CausalLMExample {
    let whereText = line.map { "line \($0): " } ?? ""
    guard messages.contains(where: { $0.role == "assistant" }) else {
      throw TrainingError("\(whereText)the conversation has no assistant message to learn from")
    }
    let full = try tokenizer.encode(template.apply(messages), addSpecialTokens: false).ids
    var labels = Array(repeating: ignoreIndex, count: full.count)
    for (i, m) in messages.enumerated() where m.role == "assistant" {
      let prompt = try tokenizer.encode(
        template.apply(Array(messages[..<i]), addGenerationPrompt: true), addSpecialTokens: false
      ).ids
      let upTo = try tokenizer.encode(template.apply(Array(messages[...i])), addSpecialTokens: false).ids
      guard upTo.count >= prompt.count, Array(upTo[..<prompt.count]) == prompt,
        Array(full[..<upTo.count]) == upTo
      else {
        throw TrainingError(
          "\(whereText)the chat template renders message \(i) differently depending on what follows it: "
            + "the assistant tokens cannot be told apart")
      }
      for j in prompt.count..<upTo.count { labels[j] = full[j] }
    }
    let n = min(full.count, maxLength)
    return CausalLMExample(inputIds: Array(full[..<n]), labels: Array(labels[..<n]))
  }

  /// JSONL with a `messages` list (`role`, `content`) per line.
  public static func chatJSONL(_ path: String, template: ChatTemplate, tokenizer: Tokenizer, maxLength: Int) throws
    -> [CausalLMExample]
  {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TrainingError("cannot read '\(path)': no such file")
    }
    var out: [CausalLMExample] = []
    for (i, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
      .enumerated()
    {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.isEmpty { continue }
      guard let obj = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
        throw TrainingError("\(path):\(i + 1): not a JSON object")
      }
      guard let list = obj["messages"] as? [[String: Any]] else {
        throw TrainingError(
          "\(path):\(i + 1): no \"messages\" list (each line needs {\"messages\": [{\"role\", \"content\"}]})")
      }
      let messages = try list.enumerated().map { j, m -> ChatMessage in
        guard let role = m["role"] as? String, let content = m["content"] as? String else {
          throw TrainingError("\(path):\(i + 1): message \(j) needs string \"role\" and \"content\"")
        }
        return ChatMessage(role: role, content: content)
      }
      do {
        out.append(try chat(messages, template: template, tokenizer: tokenizer, maxLength: maxLength, line: i + 1))
      } catch let e as ChatTemplateError {
        throw TrainingError("\(path):\(i + 1): the chat template rejects this conversation: \(e)")
      }
    }
    guard !out.isEmpty else { throw TrainingError("\(path): no conversations") }
    return out
  }

  /// A batch `[B, T]`: right-padded ids (with `padId`), attention mask, labels (-100 on padding).
  public static func collate(_ examples: [CausalLMExample], padId: Int, device: Device = .cpu) throws
    -> (inputIds: Tensor, attentionMask: Tensor, labels: Tensor)
  {
    let width = examples.map(\.inputIds.count).max() ?? 0
    var ids: [Int64] = []
    var mask: [Int64] = []
    var labels: [Int64] = []
    for e in examples {
      let pad = width - e.inputIds.count
      ids += e.inputIds.map(Int64.init) + Array(repeating: Int64(padId), count: pad)
      mask += Array(repeating: 1, count: e.inputIds.count) + Array(repeating: 0, count: pad)
      labels += e.labels.map(Int64.init) + Array(repeating: Int64(ignoreIndex), count: pad)
    }
    let shape = [examples.count, width]
    return (
      try Tensor(ids, shape: shape, device: device), try Tensor(mask, shape: shape, device: device),
      try Tensor(labels, shape: shape, device: device)
    )
  }
}
