import Foundation
import Logging

/// How the CLI shows the library's log messages (the lines it printed before the library logged them):
/// info and below as plain lines on standard output, warnings and errors as `TorchSwift: message` on
/// standard error.
package struct ConsoleLogHandler: LogHandler {
  package var metadata: Logger.Metadata = [:]
  package var logLevel: Logger.Level = .info

  package init(label: String) {}

  package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  package func log(event: LogEvent) {
    if event.level >= .warning {
      FileHandle.standardError.write(Data("TorchSwift: \(event.message)\n".utf8))
    } else {
      print(event.message)
    }
  }
}
