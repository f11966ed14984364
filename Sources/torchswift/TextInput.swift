import ArgumentParser
import Datasets
import Foundation

/// Texts from `--input FILE` (one per line, UTF-8, invalid bytes replaced) or from the arguments.
struct TextInput: ParsableArguments {
  @Option(name: .long, help: "A file with one text per line (UTF-8; invalid bytes are replaced).")
  var input: String?

  @Argument(help: "Texts (when no --input is given).")
  var texts: [String] = []

  func load() throws -> [String] {
    if let input {
      guard !texts.isEmpty == false else { throw ValidationError("give either --input FILE or texts, not both") }
      guard let data = FileManager.default.contents(atPath: input) else {
        throw ValidationError("cannot read --input '\(input)': no such file or not readable")
      }
      let (text, _) = UTF8Repair.decode(Array(data))
      var lines = text.components(separatedBy: "\n")
      if lines.last == "" { lines.removeLast() }
      return lines.map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
    }
    guard !texts.isEmpty else { throw ValidationError("no input: give --input FILE or one or more texts") }
    return texts
  }
}

/// JSON text of an array of numbers (shortest round-trip form, NaN/inf as null).
func jsonNumbers<T: BinaryFloatingPoint & LosslessStringConvertible>(_ xs: [T]) -> String {
  "[" + xs.map { $0.isFinite ? String($0) : "null" }.joined(separator: ", ") + "]"
}

func jsonInts(_ xs: [Int]) -> String { "[" + xs.map(String.init).joined(separator: ", ") + "]" }

func jsonString(_ s: String) -> String {
  let data =
    (try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
  let arr = String(decoding: data, as: UTF8.self)
  return String(arr.dropFirst().dropLast())
}
