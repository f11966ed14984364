import Foundation
#if canImport(Glibc)
  import Glibc
#endif

/// Training progress output: on a terminal, one line redrawn in place (at most `redrawInterval`
/// apart); otherwise plain log lines every `logEverySteps` steps or `logEverySeconds` seconds,
/// whichever comes first, plus the last step. The redrawn bar is terminal output (`output`); every complete line
/// (the plain progress lines and `log(_:)` messages) goes to `log`, so an application can route them through its
/// logger (`FineTuner` passes its own, the `torchswift.training` logger by default).
///
/// Throughput is an exponential moving average of samples per second between updates; the
/// ETA divides the remaining steps of the run (all epochs) by the average step rate.
public final class ProgressBar {
  public struct Options: Sendable {
    /// Nil: decide with `isatty(1)`.
    public var interactive: Bool?
    public var barWidth = 20
    public var redrawInterval = 0.1
    public var logEverySteps = 50
    public var logEverySeconds = 30.0
    /// Weight of the newest measurement in the throughput average.
    public var rateSmoothing = 0.3

    public init(interactive: Bool? = nil, barWidth: Int = 20, logEverySteps: Int = 50, logEverySeconds: Double = 30) {
      self.interactive = interactive
      self.barWidth = barWidth
      self.logEverySteps = logEverySteps
      self.logEverySeconds = logEverySeconds
    }
  }

  public let epochs: Int
  public let stepsPerEpoch: Int
  public let options: Options
  public let isInteractive: Bool
  private let output: (String) -> Void
  private let lineSink: (String) -> Void
  private let clock: () -> Double

  private var lastTime: Double?
  private var lastGlobalStep = 0
  private var stepsPerSecond: Double?
  private var samplesPerSecond: Double?
  private var lastDraw = -Double.infinity
  private var lastLogTime: Double
  private var lastLogStep = 0
  private var lastLineLength = 0
  private var lineOpen = false

  /// - Parameters:
  ///   - output: receives the bar's terminal text (default: standard output, unbuffered).
  ///   - log: receives each complete line, without its newline (default: `output` with a newline).
  ///   - clock: seconds, monotonic (default: `ProcessInfo.systemUptime`).
  public init(
    epochs: Int, stepsPerEpoch: Int, options: Options = Options(),
    output: ((String) -> Void)? = nil, log: ((String) -> Void)? = nil, clock: (() -> Double)? = nil
  ) {
    self.epochs = max(epochs, 1)
    self.stepsPerEpoch = max(stepsPerEpoch, 1)
    self.options = options
    self.isInteractive = options.interactive ?? (isatty(1) != 0)
    let output =
      output ?? { text in
        FileHandle.standardOutput.write(Data(text.utf8))
      }
    self.output = output
    self.lineSink = log ?? { output($0 + "\n") }
    self.clock = clock ?? { ProcessInfo.processInfo.systemUptime }
    self.lastLogTime = self.clock()
  }

  /// Reports that `step` (1-based within `epoch`, 1-based) finished; `samples` is its batch size.
  /// Returns the snapshot used.
  @discardableResult
  public func update(epoch: Int, step: Int, loss: Double? = nil, samples: Int = 1) -> ProgressSnapshot {
    let now = clock()
    let globalStep = (epoch - 1) * stepsPerEpoch + step
    if let lastTime, now > lastTime, globalStep > lastGlobalStep {
      let dt = now - lastTime
      let steps = Double(globalStep - lastGlobalStep)
      let a = options.rateSmoothing
      let sps = steps / dt
      let samplesRate = Double(samples) * steps / dt
      stepsPerSecond = stepsPerSecond.map { (1 - a) * $0 + a * sps } ?? sps
      samplesPerSecond = samplesPerSecond.map { (1 - a) * $0 + a * samplesRate } ?? samplesRate
    }
    lastTime = now
    lastGlobalStep = globalStep
    let remaining = Double(epochs * stepsPerEpoch - globalStep)
    let eta = stepsPerSecond.flatMap { $0 > 0 ? remaining / $0 : nil }
    let snapshot = ProgressSnapshot(
      epoch: epoch, epochs: epochs, step: step, totalSteps: stepsPerEpoch,
      loss: loss, samplesPerSecond: samplesPerSecond, eta: eta)
    let isLast = globalStep >= epochs * stepsPerEpoch
    if isInteractive {
      if isLast || step == stepsPerEpoch || now - lastDraw >= options.redrawInterval {
        let line = snapshot.barLine(barWidth: options.barWidth)
        let pad = max(0, lastLineLength - line.count)
        output("\r" + line + String(repeating: " ", count: pad))
        lastLineLength = line.count
        lastDraw = now
        lineOpen = true
        if step == stepsPerEpoch { finishLine() }
      }
    } else if isLast || globalStep - lastLogStep >= options.logEverySteps
      || now - lastLogTime >= options.logEverySeconds
    {
      lineSink(snapshot.logLine())
      lastLogStep = globalStep
      lastLogTime = now
    }
    return snapshot
  }

  /// Prints a message on its own line without garbling the bar.
  public func log(_ message: String) {
    finishLine()
    lineSink(message)
  }

  /// Ends the redrawn line (call when training stops early).
  public func finish() { finishLine() }

  private func finishLine() {
    if lineOpen {
      output("\n")
      lineOpen = false
      lastLineLength = 0
    }
  }
}
