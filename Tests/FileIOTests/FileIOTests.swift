import FileIO
import Foundation
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// The package's one write loop and atomic file writer.
final class FileIOTests: XCTestCase {
  func scratch() throws -> String {
    let dir = NSTemporaryDirectory() + "torchswift-fileio-\(getpid())-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
  }

  /// 16 MB through a pipe whose writer is hit by signals (installed without SA_RESTART, so `write` returns
  /// early or fails with EINTR) while a slow reader drains it: every byte arrives, in order.
  func testWriteAllSurvivesSignalsAndShortWrites() throws {
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in }
    action.sa_flags = 0  // no SA_RESTART: interrupted writes come back short or with EINTR
    sigemptyset(&action.sa_mask)
    var old = sigaction()
    XCTAssertEqual(sigaction(SIGUSR1, &action, &old), 0)
    defer { sigaction(SIGUSR1, &old, nil) }

    var fds: [Int32] = [0, 0]
    XCTAssertEqual(pipe(&fds), 0)
    let payload = (0..<(16 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
    final class Box: @unchecked Sendable {
      var error: Error?
      var writer: pthread_t?
      var received: [UInt8] = []
      let started = DispatchSemaphore(value: 0)
      /// Guards `received`: the reader appends while the main thread reads its count.
      let lock = NSLock()
      var receivedCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return received.count
      }
    }
    let box = Box()
    let done = DispatchGroup()
    done.enter()
    Thread {
      box.writer = pthread_self()
      box.started.signal()
      do { try writeAll(fds[1], payload, path: "<pipe>") } catch { box.error = error }
      close(fds[1])
      done.leave()
    }.start()
    box.started.wait()
    done.enter()
    Thread {
      var chunk = [UInt8](repeating: 0, count: 1 << 16)
      while true {
        let n = read(fds[0], &chunk, chunk.count)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        box.lock.lock()
        box.received += chunk[0..<n]
        box.lock.unlock()
        usleep(200)
      }
      close(fds[0])
      done.leave()
    }.start()
    var signals = 0
    while done.wait(timeout: .now() + .milliseconds(1)) == .timedOut {
      if box.receivedCount < payload.count, let w = box.writer { pthread_kill(w, SIGUSR1); signals += 1 }
    }
    print("writeAll: \(payload.count) bytes through a pipe, \(signals) signals sent to the writer")
    XCTAssertNil(box.error, "\(box.error.map { "\($0)" } ?? "")")
    XCTAssertGreaterThan(signals, 10)
    XCTAssertEqual(box.received.count, payload.count)
    XCTAssertTrue(box.received == payload, "bytes arrived changed or out of order")
  }

  func testWriteAllNamesThePathOnFailure() throws {
    var fds: [Int32] = [0, 0]
    XCTAssertEqual(pipe(&fds), 0)
    close(fds[0])
    signal(SIGPIPE, SIG_IGN)
    defer { close(fds[1]) }
    XCTAssertThrowsError(try writeAll(fds[1], [1, 2, 3], path: "/some/file.bin")) { error in
      let e = error as? FileIOError
      XCTAssertEqual(e?.code, EPIPE)
      XCTAssertEqual(e?.path, "/some/file.bin")
      XCTAssertTrue("\(error)".contains("/some/file.bin"), "\(error)")
    }
  }

  func testAtomicWriteReplacesWholeFileAndLeavesNoTemporary() throws {
    let dir = try scratch()
    let path = dir + "/out.bin"
    try AtomicFile.write([1, 2, 3], to: path)
    let big = [UInt8](repeating: 7, count: 3 << 20)  // larger than the sink's buffer
    try AtomicFile.write(to: path) { sink in
      try sink.append([9])
      try sink.append(big)
      try sink.append(byteCount: 5) { $0.storeBytes(of: 42, toByteOffset: 4, as: UInt8.self) }
    }
    XCTAssertEqual(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))), [9] + big + [0, 0, 0, 0, 42])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.bin"])
  }

  func testFailedWriteLeavesTheOldFileAndNoTemporary() throws {
    let dir = try scratch()
    let path = dir + "/out.txt"
    try AtomicFile.write("old", to: path)
    struct Stop: Error {}
    XCTAssertThrowsError(
      try AtomicFile.write(to: path) { sink in
        try sink.append(Array("new, half written".utf8))
        throw Stop()
      })
    XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old")
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.txt"])
    XCTAssertThrowsError(try AtomicFile.write("x", to: dir + "/missing/out.txt")) { error in
      XCTAssertTrue("\(error)".contains(dir + "/missing/out.txt"), "\(error)")
      XCTAssertEqual((error as? FileIOError)?.code, ENOENT)
    }
  }

  /// Writers on several threads to one destination: each writes its own temporary file, so every write
  /// succeeds and the result is one writer's whole content.
  func testConcurrentWritersToOnePath() throws {
    let dir = try scratch()
    let path = dir + "/shared.txt"
    let contents = (0..<4).map { i in String(repeating: "\(i)", count: 100_000) }
    let errors = NSLock()
    var failures: [String] = []
    DispatchQueue.concurrentPerform(iterations: 4) { i in
      for _ in 0..<25 {
        do { try AtomicFile.write(contents[i], to: path) } catch {
          errors.lock(); failures.append("\(error)"); errors.unlock()
        }
      }
    }
    XCTAssertEqual(failures, [])
    XCTAssertTrue(contents.contains(try String(contentsOfFile: path, encoding: .utf8)))
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["shared.txt"])
  }
}
