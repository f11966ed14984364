import Foundation
import Logging
import Torch

/// What `torchswift` and `torchswift-bench` do before parsing their arguments: show the library's log messages
/// as the command's own lines, and stop (exit 70, EX_SOFTWARE) when the libtorch loaded is not the one TorchSwift
/// was built for, unless `checkRuntime` is false (`doctor` reports the mismatch itself; help needs no libtorch).
package enum CommandStartup {
  package static func prepare(checkRuntime: Bool) {
    LoggingSystem.bootstrap { ConsoleLogHandler(label: $0) }
    guard checkRuntime else { return }
    do {
      try Torch.verifyRuntime()
    } catch {
      FileHandle.standardError.write(Data("TorchSwift: \(error)\n".utf8))
      Foundation.exit(70)
    }
  }

  /// True when the arguments only ask for help (`--help`, `-h`, `help`), which needs no libtorch.
  package static func isHelp(_ first: String?) -> Bool { first == "--help" || first == "-h" || first == "help" }
}
