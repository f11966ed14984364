import Foundation
import XCTest

/// The README against the code: its Swift blocks against their compiled twins in `ReadmeSnippets.swift`, its
/// command tables against each command's `--help`.
final class ReadmeTests: XCTestCase {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  static func read(_ path: String) throws -> String { try String(contentsOfFile: root + "/" + path, encoding: .utf8) }

  /// A snippet as compared: `import` lines and trailing spaces dropped, `/* … */` read as `…`, common indentation and
  /// blank lines at either end removed.
  static func normalized(_ lines: [String]) -> [String] {
    var ls = lines.filter { !$0.hasPrefix("import ") && !$0.trimmingCharacters(in: .whitespaces).hasPrefix("import ") }
      .map { line -> String in
        var l = line.replacingOccurrences(of: "/* … */", with: "…")
        while l.last == " " { l.removeLast() }
        return l
      }
    while ls.first?.isEmpty == true { ls.removeFirst() }
    while ls.last?.isEmpty == true { ls.removeLast() }
    let indent = ls.filter { !$0.isEmpty }.map { $0.prefix { $0 == " " }.count }.min() ?? 0
    return ls.map { $0.isEmpty ? $0 : String($0.dropFirst(indent)) }
  }

  /// The ```swift blocks of a Markdown text.
  static func swiftBlocks(_ markdown: String) -> [[String]] {
    var blocks: [[String]] = []
    var current: [String]? = nil
    for line in markdown.components(separatedBy: "\n") {
      if current == nil, line == "```swift" {
        current = []
      } else if current != nil, line == "```" {
        blocks.append(current!)
        current = nil
      } else if current != nil {
        current!.append(line)
      }
    }
    return blocks
  }

  /// The regions of `ReadmeSnippets.swift`, by name.
  static func twins() throws -> [(name: String, lines: [String])] {
    var out: [(String, [String])] = []
    var current: (String, [String])? = nil
    for line in try read("Tests/ReadmeTests/ReadmeSnippets.swift").components(separatedBy: "\n") {
      let t = line.trimmingCharacters(in: .whitespaces)
      if t.hasPrefix("// README snippet: ") {
        current = (String(t.dropFirst("// README snippet: ".count)), [])
      } else if t == "// README snippet end", let c = current {
        out.append(c)
        current = nil
      } else if current != nil {
        current!.1.append(line)
      }
    }
    return out
  }

  func testEverySwiftBlockOfTheReadmeIsCompiledCode() throws {
    let blocks = Self.swiftBlocks(try Self.read("README.md")).filter { !Self.isManifest($0) }.map(Self.normalized)
    let twins = try Self.twins().map { ($0.name, Self.normalized($0.lines)) }
    XCTAssertGreaterThanOrEqual(blocks.count, 7)
    XCTAssertEqual(
      blocks.count, twins.count, "README Swift blocks vs regions in Tests/ReadmeTests/ReadmeSnippets.swift")
    for (i, block) in blocks.enumerated() where i < twins.count {
      let (name, twin) = twins[i]
      if block == twin { continue }
      let at = (0..<min(block.count, twin.count)).first { block[$0] != twin[$0] } ?? min(block.count, twin.count)
      XCTFail(
        """
        README Swift block \(i + 1) differs from its compiled twin '\(name)' (ReadmeSnippets.swift) at its line \(at + 1):
          README: \(at < block.count ? block[at] : "(end)")
          twin:   \(at < twin.count ? twin[at] : "(end)")
        Change both: the twin compiles, the README shows it.
        """)
    }
  }

  static func isManifest(_ block: [String]) -> Bool { block.first?.hasPrefix("// swift-tools-version") == true }

  /// The README's `Package.swift` for a package of your own is `Examples/Consumer/Package.swift`, which
  /// `make check-consumer` builds.
  func testReadmeManifestIsTheConsumerExample() throws {
    let manifests = Self.swiftBlocks(try Self.read("README.md")).filter(Self.isManifest)
    XCTAssertEqual(manifests.count, 1)
    XCTAssertEqual(
      manifests.first.map { $0.joined(separator: "\n") + "\n" }, try Self.read("Examples/Consumer/Package.swift"))
  }

  /// The module snippet runs and its keys are torch's, in torch's order.
  func testModuleSnippetRuns() throws {
    let keys = try readmeModule()
    XCTAssertEqual(keys.first, "encoder.layers.0.self_attn.in_proj_weight")
    XCTAssertEqual(Array(keys.suffix(2)), ["out_proj.weight", "out_proj.bias"])
  }

  // MARK: command tables vs --help

  static func binary(_ name: String) throws -> String {
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let p = runner.deletingLastPathComponent().appendingPathComponent(name).path
    guard FileManager.default.isExecutableFile(atPath: p) else {
      throw XCTSkip("\(name) not built beside the tests at \(p): swift build --build-tests")
    }
    return p
  }

  static func help(_ tool: String, _ command: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: try binary(tool))
    p.arguments = command + ["--help"]
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
  }

  /// The long flags of a help text's OPTIONS (and FLAGS) section: `--flag`, `--[no-]flag` as both.
  static func helpFlags(_ text: String) -> Set<String> {
    var flags = Set<String>()
    for line in text.components(separatedBy: "\n") {
      // Option lines are indented by two spaces; wrapped descriptions by more.
      guard line.hasPrefix("  -") else { continue }
      // The option's names and value (`-h, --help`, `--eval-data <eval-data>`), up to its description.
      let words = line.split(separator: " ").map(String.init)
      let head = words.prefix { $0.hasPrefix("-") || $0.hasPrefix("<") }.joined(separator: " ")
      for token in head.components(separatedBy: CharacterSet(charactersIn: " ,<>/")) where token.hasPrefix("--") {
        if token.hasPrefix("--[no-]") {
          let name = String(token.dropFirst("--[no-]".count))
          flags.insert("--" + name)
          flags.insert("--no-" + name)
        } else {
          flags.insert(token)
        }
      }
    }
    return flags.subtracting(["--help", "--version"])
  }

  /// The long flags written in a README table cell: every `--name` token.
  static func cellFlags(_ cell: String) -> Set<String> {
    var flags = Set<String>()
    let scanner = cell.replacingOccurrences(of: "\\|", with: " ")
    var i = scanner.startIndex
    while let r = scanner.range(of: "--", range: i..<scanner.endIndex) {
      var j = r.upperBound
      while j < scanner.endIndex, scanner[j].isLetter || scanner[j].isNumber || scanner[j] == "-" {
        j = scanner.index(after: j)
      }
      let name = String(scanner[r.lowerBound..<j])
      if name.count > 2 { flags.insert(name) }
      i = j
    }
    return flags
  }

  /// Every row of the command-line table names exactly the flags its command's --help lists.
  func testCommandTableListsEachCommandsFlags() throws {
    let readme = try Self.read("README.md")
    guard let start = readme.range(of: "## Command-line tool") else { return XCTFail("no Command-line tool section") }
    let section = readme[start.upperBound...].prefix { _ in true }
    var rows: [(tool: String, command: [String], flags: Set<String>, cell: String)] = []
    for line in section.components(separatedBy: "\n") {
      if line.hasPrefix("## ") { break }
      guard line.hasPrefix("| `torchswift") else { continue }
      let cell = String(line.dropFirst(3).prefix { $0 != "`" })  // the command cell's code
      let words = cell.split(separator: " ").map(String.init)
      let tool = words[0]
      let command = Array(words.dropFirst().prefix { !$0.hasPrefix("[") && !$0.hasPrefix("-") && !$0.hasPrefix("(") })
      rows.append((tool, command, Self.cellFlags(cell), cell))
    }
    XCTAssertGreaterThanOrEqual(rows.count, 14, "command rows found in the README")
    var checked = Set<String>()
    let generateFlags = Self.helpFlags(try Self.help("torchswift", ["generate"]))
    // Each --help starts the binary (and loads libtorch): ask them all at once.
    let asked = rows.map { ($0.tool, $0.command) }
    nonisolated(unsafe) var helps = [String?](repeating: nil, count: asked.count)
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: asked.count) { i in
      let text = try? Self.help(asked[i].0, asked[i].1)
      lock.lock()
      helps[i] = text
      lock.unlock()
    }
    for (index, row) in rows.enumerated() {
      // `a | b | c` rows name several commands that take no flags worth listing: each must exist.
      let commands = row.command.contains("\\|") ? row.command.filter { $0 != "\\|" }.map { [$0] } : [row.command]
      for command in commands {
        let help = try (commands.count == 1 ? helps[index] : nil) ?? Self.help(row.tool, command)
        XCTAssertTrue(
          help.contains("USAGE: \(row.tool)"), "\(row.tool) \(command.joined(separator: " ")) --help:\n\(help)")
        checked.insert(([row.tool] + command).joined(separator: " "))
        if commands.count > 1 { continue }
        var want = Self.helpFlags(help)
        var have = row.flags
        if row.cell.contains("options as generate") { have.formUnion(generateFlags.intersection(want)) }
        want.subtract(["--no-group-by-length"])  // `--[no-]group-by-length` is written once
        have.subtract(["--no-group-by-length"])
        XCTAssertEqual(
          have.subtracting(want).sorted(), [], "README row `\(row.cell)` lists flags that --help does not have")
        XCTAssertEqual(
          want.subtracting(have).sorted(), [], "README row `\(row.cell)` lacks flags that --help lists")
      }
    }
    // Every subcommand of both tools has a row.
    for (tool, root) in [("torchswift", ["torchswift"]), ("torchswift-bench", ["torchswift-bench"])] {
      let help = try Self.help(tool, [])
      guard let sub = help.range(of: "SUBCOMMANDS:") else { continue }
      for line in help[sub.upperBound...].components(separatedBy: "\n") {
        guard line.hasPrefix("  "), !line.hasPrefix("   "),
          let name = line.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init),
          name != "See"
        else { continue }
        if name == "example" { continue }  // its one subcommand has a row
        XCTAssertTrue(
          checked.contains((root + [name]).joined(separator: " ")),
          "\((root + [name]).joined(separator: " ")) has no row in the README's command table")
      }
    }
  }
}
