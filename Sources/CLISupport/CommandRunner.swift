import ArgumentParser
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

extension ParsableCommand {
  /// Parses and runs a command-line tool as ArgumentParser's `main` does, except that a `ValidationError` thrown
  /// while a subcommand runs (a bad `--precision`, `--device`, a missing input) is shown with that subcommand's
  /// usage (`torchswift finetune [--model <model>] …`), not the tool's (`torchswift <subcommand>`).
  package static func runAsTool(_ arguments: [String]? = nil) {
    var command: ParsableCommand
    do {
      command = try parseAsRoot(arguments)
    } catch {
      exit(withError: error)
    }
    do {
      try command.run()
    } catch let error as ValidationError {
      let sub = type(of: command)
      let path = commandPath(to: sub) ?? [configuration.commandName ?? _commandName]
      let usage = usageString(for: sub)
      fflush(stdout)
      FileHandle.standardError.write(
        Data(
          "Error: \(error.message)\nUsage: \(usage)\n  See '\(path.joined(separator: " ")) --help' for more information.\n"
            .utf8))
      Foundation.exit(ExitCode.validationFailure.rawValue)
    } catch {
      exit(withError: error)
    }
  }

  /// The command names from this root to `sub` (`["torchswift", "example", "transformer"]`), or nil.
  package static func commandPath(to sub: ParsableCommand.Type) -> [String]? {
    let name = configuration.commandName ?? _commandName
    if sub == self { return [name] }
    for child in configuration.subcommands {
      if let rest = child.commandPath(to: sub) { return [name] + rest }
    }
    return nil
  }
}
