import FileIO
import Foundation
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Errors raised by `TensorBoardWriter`.
public enum TensorBoardWriterError: Error, CustomStringConvertible {
  case cannotCreateDirectory(path: String, reason: String)
  case cannotOpenFile(path: String, reason: String)
  case writeFailed(path: String, reason: String)
  case droppedEvents(path: String, count: Int)
  case closed(path: String)

  public var description: String {
    switch self {
    case .cannotCreateDirectory(let p, let r): return "cannot create TensorBoard log directory \(p): \(r)"
    case .cannotOpenFile(let p, let r): return "cannot open TensorBoard event file \(p): \(r)"
    case .writeFailed(let p, let r): return "writing TensorBoard event file \(p) failed: \(r)"
    case .droppedEvents(let p, let n): return "dropped \(n) TensorBoard events for \(p) after repeated write failures"
    case .closed(let p): return "TensorBoard writer for \(p) is closed"
    }
  }
}

/// Writes TensorBoard event files (`events.out.tfevents.*`) containing scalar summaries.
///
/// Events are buffered in memory and written when `maxPendingEvents` accumulate, every
/// `flushInterval` seconds (from a background timer), on `flush()` and on `close()`.
/// All methods may be called from one training thread while the timer flushes concurrently.
/// Failures while flushing in the background never crash: they are kept in `lastError` and
/// passed to `errorHandler`; explicit `flush()`/`close()` throw them.
public final class TensorBoardWriter: @unchecked Sendable {
  /// Tuning knobs.
  public struct Options: Sendable {
    /// Seconds between background flushes (0 or less disables the timer).
    public var flushInterval: Double = 10
    /// Number of buffered events that triggers a flush from `addScalar`.
    public var maxPendingEvents: Int = 64
    /// How scalars are encoded.
    public var scalarEncoding: ScalarEncoding = .simpleValue
    /// Appended to the file name, as in PyTorch's `filename_suffix`.
    public var filenameSuffix: String = ""
    /// Buffered bytes kept for retry after write failures before events are dropped.
    public var maxRetainedBytes: Int = 16 << 20

    public init(
      flushInterval: Double = 10, maxPendingEvents: Int = 64,
      scalarEncoding: ScalarEncoding = .simpleValue, filenameSuffix: String = ""
    ) {
      self.flushInterval = flushInterval
      self.maxPendingEvents = maxPendingEvents
      self.scalarEncoding = scalarEncoding
      self.filenameSuffix = filenameSuffix
    }
  }

  /// The file-version string of the first record.
  public static let fileVersion = "brain.Event:2"

  /// The log directory.
  public let logdir: URL
  /// The event file this writer appends to.
  public let fileURL: URL
  public let options: Options

  private let lock = NSLock()
  private var fd: Int32
  private var pending: [UInt8] = []
  private var pendingEvents = 0
  private var isClosed = false
  private var storedError: Error?
  private var handler: ((Error) -> Void)?
  private var timer: DispatchSourceTimer?

  private static let counterLock = NSLock()
  nonisolated(unsafe) private static var fileCounter = 0

  /// Creates `logdir` if needed and a new event file in it whose first record is the
  /// file-version event.
  public init(logdir: URL, options: Options = Options()) throws {
    self.logdir = logdir
    self.options = options
    do {
      try FileManager.default.createDirectory(at: logdir, withIntermediateDirectories: true)
    } catch {
      throw TensorBoardWriterError.cannotCreateDirectory(path: logdir.path, reason: error.localizedDescription)
    }
    let now = Date().timeIntervalSince1970
    self.fileURL = logdir.appendingPathComponent(Self.fileName(time: now, suffix: options.filenameSuffix))
    let path = fileURL.path
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      throw TensorBoardWriterError.cannotOpenFile(path: path, reason: String(cString: strerror(errno)))
    }
    append(EventRecord(wallTime: now, step: 0, fileVersion: Self.fileVersion))
    try flush()
    startTimer()
  }

  /// Convenience initializer taking a path.
  public convenience init(logdir: String, options: Options = Options()) throws {
    try self.init(logdir: URL(fileURLWithPath: logdir, isDirectory: true), options: options)
  }

  deinit {
    timer?.cancel()
    if !isClosed {
      _ = try? flushLocked()
      closeDescriptor(fd)
    }
  }

  /// `events.out.tfevents.<unix seconds, 10 digits>.<hostname>.<pid>.<counter><suffix>`.
  static func fileName(time: Double, suffix: String) -> String {
    counterLock.lock()
    let counter = fileCounter
    fileCounter += 1
    counterLock.unlock()
    return "events.out.tfevents.\(String(format: "%010d", Int(time))).\(hostName()).\(getpid()).\(counter)\(suffix)"
  }

  private static func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
    let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return name.isEmpty ? "localhost" : name
  }

  /// The most recent write error, if any (cleared by a later successful flush).
  public var lastError: Error? {
    lock.lock(); defer { lock.unlock() }
    return storedError
  }

  /// Called (on the flushing thread) for each write error.
  public var errorHandler: ((Error) -> Void)? {
    get { lock.lock(); defer { lock.unlock() }; return handler }
    set { lock.lock(); handler = newValue; lock.unlock() }
  }

  /// Records one scalar. `wallTime` defaults to now. (Disfavoured so that integer and float
  /// literals pick the `Double` overload instead of being ambiguous.)
  @_disfavoredOverload
  public func addScalar(_ tag: String, _ value: Float, step: Int, wallTime: Double? = nil) {
    addScalars([(tag, value)], step: step, wallTime: wallTime)
  }

  /// Records one scalar given as a `Double` (stored as float32, as TensorBoard does).
  public func addScalar(_ tag: String, _ value: Double, step: Int, wallTime: Double? = nil) {
    addScalars([(tag, Float(value))], step: step, wallTime: wallTime)
  }

  /// Records several scalars sharing a step in one event, in tag order.
  public func addScalars(_ values: [String: Double], step: Int, wallTime: Double? = nil) {
    addScalars(values.sorted { $0.key < $1.key }.map { ($0.key, Float($0.value)) }, step: step, wallTime: wallTime)
  }

  /// Records several scalars sharing a step in one event, in the given order.
  public func addScalars(_ values: [(String, Float)], step: Int, wallTime: Double? = nil) {
    let encoding = options.scalarEncoding
    let event = EventRecord(
      wallTime: wallTime ?? Date().timeIntervalSince1970, step: Int64(step),
      scalars: values.map { ScalarValue(tag: $0.0, value: $0.1, encoding: encoding) })
    lock.lock()
    if isClosed {
      let error = TensorBoardWriterError.closed(path: fileURL.path)
      storedError = error
      let h = handler
      lock.unlock()
      h?(error)
      return
    }
    appendLocked(event)
    var failure: Error?
    if pendingEvents >= options.maxPendingEvents {
      do { try flushLocked() } catch { failure = error }
    }
    let h = handler
    lock.unlock()
    if let failure { h?(failure) }
  }

  /// Writes all buffered events to the file.
  public func flush() throws {
    lock.lock(); defer { lock.unlock() }
    try flushLocked()
  }

  /// Flushes and closes the file; later `add…` calls are ignored and reported as errors.
  /// Calling `close()` again does nothing.
  public func close() throws {
    timer?.cancel()
    lock.lock(); defer { lock.unlock() }
    guard !isClosed else { return }
    isClosed = true
    defer { closeDescriptor(fd) }
    try flushLocked()
  }

  private func append(_ event: EventRecord) {
    lock.lock(); defer { lock.unlock() }
    appendLocked(event)
  }

  private func appendLocked(_ event: EventRecord) {
    TFRecord.frame(event.encoded(), into: &pending)
    pendingEvents += 1
  }

  private func flushLocked() throws {
    guard !pending.isEmpty else { return }
    let failure: FileIOError
    do {
      try pending.withUnsafeBytes { try writeAll(fd, UnsafeRawBufferPointer($0), path: fileURL.path) }
      pending.removeAll(keepingCapacity: true)
      pendingEvents = 0
      storedError = nil
      return
    } catch let error as FileIOError {
      failure = error
    }
    let path = fileURL.path
    var error: Error = TensorBoardWriterError.writeFailed(path: path, reason: failure.reason)
    pending.removeFirst(failure.written)
    if pending.count > options.maxRetainedBytes {
      error = TensorBoardWriterError.droppedEvents(path: path, count: pendingEvents)
      pending.removeAll()
      pendingEvents = 0
    }
    storedError = error
    throw error
  }

  /// Swaps the file descriptor (tests use it to inject write failures).
  func replaceDescriptorForTesting(_ newDescriptor: Int32) throws {
    lock.lock(); defer { lock.unlock() }
    closeDescriptor(fd)
    fd = newDescriptor
  }

  private func startTimer() {
    guard options.flushInterval > 0 else { return }
    let source = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "TensorBoardWriter.flush"))
    let interval = DispatchTimeInterval.milliseconds(Int(options.flushInterval * 1000))
    source.schedule(deadline: .now() + interval, repeating: interval)
    source.setEventHandler { [weak self] in self?.timerFired() }
    timer = source
    source.resume()
  }

  private func timerFired() {
    lock.lock()
    var failure: Error?
    if !isClosed {
      do { try flushLocked() } catch { failure = error }
    }
    let h = handler
    lock.unlock()
    if let failure { h?(failure) }
  }
}
