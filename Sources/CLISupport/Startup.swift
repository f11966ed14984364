import Foundation
import Logging
import Torch

#if canImport(Glibc)
  import Glibc
#endif

/// What `torchswift` and `torchswift-bench` do before parsing their arguments: show the library's log messages
/// as the command's own lines, and stop (exit 70, EX_SOFTWARE) when the libtorch loaded is not the one TorchSwift
/// was built for, unless `checkRuntime` is false (`doctor` reports the mismatch itself; help needs no libtorch).
/// Standard output is made line-buffered first: redirected to a file, a pipe, torchrun or `docker logs`, each line
/// is written when it ends (C's default there is a 4 KiB block buffer, so a killed run would lose its output and
/// stdout's lines would come after stderr's).
package enum CommandStartup {
  package static func prepare(checkRuntime: Bool) {
    setvbuf(stdout, nil, _IOLBF, 0)
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
