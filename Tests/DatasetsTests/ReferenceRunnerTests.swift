import Foundation
import ReferenceTesting
import XCTest

/// The shared Python runner every test target uses: a reference that writes more to stderr than a pipe
/// holds (64 KiB) before its stdout cannot block it (the runners that read stdout to the end first did).
final class ReferenceRunnerTests: XCTestCase {
  func testChattyStderrDoesNotBlockAndFailuresCarryStderr() throws {
    let program = "import sys; sys.stderr.write('w' * 1_000_000); sys.stderr.flush(); print('done')"
    final class Box: @unchecked Sendable { var result: Result<Data, Error>? }
    let box = Box()
    let finished = DispatchSemaphore(value: 0)
    Thread {
      box.result = Result { try ReferenceTools.runPython(["-c", program]) }
      finished.signal()
    }.start()
    XCTAssertEqual(finished.wait(timeout: .now() + 120), .success, "the runner blocked on a full stderr pipe")
    let out = try XCTUnwrap(box.result).get()
    XCTAssertEqual(String(decoding: out, as: UTF8.self), "done\n")

    XCTAssertThrowsError(
      try ReferenceTools.runPython(["-c", "import sys; sys.stderr.write('boom ' * 30000); sys.exit(3)"])
    ) {
      XCTAssertTrue("\($0)".contains("exit 3") && "\($0)".contains("boom boom"), String("\($0)".prefix(200)))
    }
  }
}
