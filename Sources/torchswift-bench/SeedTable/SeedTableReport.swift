import Foundation

/// The rows of the seed's table: a device and a precision recipe for the same training step.
enum RowKind: String, CaseIterable {
  case cpuFP32 = "cpu-fp32"
  case cpuBF16 = "cpu-bf16"
  case gpuFP32 = "gpu-fp32"
  case gpuTF32 = "gpu-tf32"
  case gpuAMPFP16 = "gpu-amp-fp16"
  case gpuAMPBF16 = "gpu-amp-bf16"
  case gpuGraph = "gpu-graph"

  var onGPU: Bool { self != .cpuFP32 && self != .cpuBF16 }

  var title: String {
    switch self {
    case .cpuFP32: return "CPU FP32"
    case .cpuBF16: return "CPU BF16 (autocast)"
    case .gpuFP32: return "GPU FP32"
    case .gpuTF32: return "GPU TF32"
    case .gpuAMPFP16: return "GPU AMP FP16 + GradScaler"
    case .gpuAMPBF16: return "GPU AMP BF16"
    case .gpuGraph: return "GPU AMP BF16 + CUDA graph"
    }
  }

  /// The precision of the row's matmuls (for MFU).
  var precision: MatmulPrecision {
    switch self {
    case .cpuFP32, .gpuFP32: return .fp32
    case .cpuBF16, .gpuAMPBF16, .gpuGraph: return .bf16
    case .gpuTF32: return .tf32
    case .gpuAMPFP16: return .fp16
    }
  }

  /// Parses "cpu,gpu" (device groups) into rows.
  static func rows(forDevices devices: [String]) throws -> [RowKind] {
    var out: [RowKind] = []
    for d in devices {
      switch d.lowercased() {
      case "cpu": out += [.cpuFP32, .cpuBF16]
      case "gpu", "cuda": out += [.gpuFP32, .gpuTF32, .gpuAMPFP16, .gpuAMPBF16, .gpuGraph]
      default:
        if let r = RowKind(rawValue: d.lowercased()) {
          out.append(r)
        } else {
          throw BenchTableError(
            "unknown device row '\(d)': use cpu, gpu or a row name (\(RowKind.allCases.map(\.rawValue).joined(separator: ", ")))"
          )
        }
      }
    }
    var seen = Set<RowKind>()
    return out.filter { seen.insert($0).inserted }
  }
}

struct BenchTableError: Error, CustomStringConvertible {
  var description: String
  init(_ message: String) { description = message }
}

/// One timed configuration's result.
struct Measurement: Equatable {
  var medianMs: Double
  var p90Ms: Double
  /// GPU: the caching allocator's peak over the timed steps; CPU: peak RSS growth; nil when unknown.
  var peakMemBytes: Int?
  var samplesPerS: Double
  /// E.g. why a CUDA graph row ran eagerly.
  var note: String? = nil
}

enum Outcome: Equatable {
  case ok(Measurement)
  case skipped(String)
  case failed(String)

  var measurement: Measurement? { if case .ok(let m) = self { return m } else { return nil } }

  var statusText: String {
    switch self {
    case .ok: return "ok"
    case .skipped(let r): return "skipped: \(r)"
    case .failed(let r): return "failed: \(r)"
    }
  }
}

/// One line of the table: a scenario configuration on one row recipe, Swift and (optionally) PyTorch.
struct TableEntry {
  var scenario: String  // "encoder", "minilm", "bert-base"
  var shape: String  // "[10, 32, 512]" or "B=32 T=128"
  var row: RowKind
  var batch: Int
  var flopsPerStep: Double
  var swift: Outcome
  /// nil when PyTorch was not run (no --compare-pytorch).
  var pytorchEager: Outcome? = nil
  var pytorchCompile: Outcome? = nil

  var label: String { "\(scenario) \(shape)" }
}

/// The seed's table: results, environment and rendering to terminal text, markdown, JSON and SVG.
struct SeedTableReport {
  var date: String
  var machine: String
  var torchVersion: String
  /// GPU name (MFU peaks are looked up by it), nil without a GPU.
  var gpuName: String?
  var steps: Int
  var warmup: Int
  var comparePyTorch: Bool
  var entries: [TableEntry]
  var notes: [String] = []
  /// Whether TorchSwift's GPU rows ran its fused kernels ("fused kernels on (NVRTC 13.0)"), nil without a GPU.
  var fusedKernels: String? = nil

  func mfu(_ e: TableEntry, _ m: Measurement?) -> Double? {
    guard e.row.onGPU, let m, let gpuName else { return nil }
    return PeakThroughput.mfu(
      flopsPerStep: e.flopsPerStep, stepMs: m.medianMs, deviceName: gpuName, precision: e.row.precision)
  }

  // MARK: cells

  static func fmtCount(_ v: Double) -> String {
    if v >= 1000 {
      let n = Int(v.rounded())
      var s = String(n)
      var i = s.count - 3
      while i > 0 { s.insert(",", at: s.index(s.startIndex, offsetBy: i)); i -= 3 }
      return s
    }
    return v >= 100 ? String(format: "%.0f", v) : (v >= 10 ? String(format: "%.1f", v) : String(format: "%.2f", v))
  }

  static func fmtMs(_ v: Double) -> String {
    v >= 100 ? String(format: "%.0f", v) : (v >= 10 ? String(format: "%.1f", v) : String(format: "%.2f", v))
  }

  static func fmtGB(_ bytes: Int?) -> String {
    guard let bytes else { return "n/a" }
    return String(format: "%.2f", Double(bytes) / 1e9)
  }

  /// Samples/s of `a` over `b`, nil when either is missing.
  static func ratioValue(_ a: Outcome?, _ b: Outcome?) -> Double? {
    guard let x = a?.measurement?.samplesPerS, let y = b?.measurement?.samplesPerS, y > 0 else { return nil }
    return x / y
  }

  static func times(_ ratio: Double) -> String { String(format: "%.2f×", ratio) }

  static func ratio(_ a: Outcome?, _ b: Outcome?) -> String { ratioValue(a, b).map(times) ?? "–" }

  /// Peak memory of `a` over `b`, nil when either is unknown.
  static func memoryRatio(_ a: Measurement?, _ b: Measurement?) -> Double? {
    guard let x = a?.peakMemBytes, let y = b?.peakMemBytes, y > 0 else { return nil }
    return Double(x) / Double(y)
  }

  static func short(_ o: Outcome?) -> String {
    switch o {
    case nil: return "–"
    case .ok(let m)?: return fmtCount(m.samplesPerS)
    case .skipped?: return "skipped"
    case .failed?: return "failed"
    }
  }

  var header: [String] {
    var h = ["scenario", "row", "step ms (median / p90)", "peak mem GB", "mem vs FP32", "samples/s", "MFU"]
    if comparePyTorch {
      h += [
        "PyTorch eager samples/s", "Swift ÷ eager", "PyTorch eager peak GB", "PyTorch compile samples/s",
        "Swift ÷ compile"
      ]
    }
    return h
  }

  /// The cells of one entry; a skipped or failed Swift run puts its reason in the third column.
  func cells(_ e: TableEntry) -> [String] {
    var c = [e.label, e.row.title]
    switch e.swift {
    case .ok(let m):
      c += [
        "\(Self.fmtMs(m.medianMs)) / \(Self.fmtMs(m.p90Ms))", Self.fmtGB(m.peakMemBytes),
        Self.memoryChange(m, baseline(e)?.swift.measurement), Self.fmtCount(m.samplesPerS)
      ]
      if !e.row.onGPU {
        c.append("n/a")
      } else if let u = mfu(e, m) {
        c.append(String(format: "%.1f%%", u * 100))
      } else {
        c.append("unknown peak")
      }
    case .skipped, .failed:
      c += [e.swift.statusText, "", "", "", ""]
    }
    if comparePyTorch {
      c += [
        Self.short(e.pytorchEager), Self.ratio(e.swift, e.pytorchEager),
        Self.fmtGB(e.pytorchEager?.measurement?.peakMemBytes),
        Self.short(e.pytorchCompile), Self.ratio(e.swift, e.pytorchCompile)
      ]
    }
    return c
  }

  /// The same scenario's FP32 row on the same kind of device (the reference for "mem vs FP32").
  func baseline(_ e: TableEntry) -> TableEntry? {
    let fp32: RowKind = e.row.onGPU ? .gpuFP32 : .cpuFP32
    guard e.row != fp32 else { return nil }
    return entries.first { $0.label == e.label && $0.row == fp32 }
  }

  /// Peak memory relative to the baseline row: "−35%" (less) or "+3%"; "–" when either is unknown.
  static func memoryChange(_ m: Measurement, _ base: Measurement?) -> String {
    guard let r = memoryRatio(m, base) else { return "–" }
    let pct = (r - 1) * 100
    if abs(pct) < 0.5 { return "±0%" }
    return String(format: "%@%.0f%%", pct < 0 ? "−" : "+", abs(pct))
  }

  /// The seed's headline ratios per scenario, from the GPU rows (or the CPU rows: BF16 against FP32):
  /// AMP BF16 throughput and peak memory against FP32 (TorchSwift, and PyTorch eager alongside), and the
  /// CUDA-graph step against PyTorch's eager AMP BF16 step and its torch.compile steps.
  var headlines: [String] {
    var out: [String] = []
    var labels: [String] = []
    for e in entries where !labels.contains(e.label) { labels.append(e.label) }
    for label in labels {
      func entry(_ r: RowKind) -> TableEntry? { entries.first { $0.label == label && $0.row == r } }
      func x(_ a: Measurement?, _ b: Measurement?) -> String? {
        Self.ratioValue(a.map(Outcome.ok), b.map(Outcome.ok)).map(Self.times)
      }
      var parts: [String] = []
      for (amp, fp32) in [(RowKind.gpuAMPBF16, RowKind.gpuFP32), (.cpuBF16, .cpuFP32)] {
        guard let a = entry(amp), let f = entry(fp32), let am = a.swift.measurement, let fm = f.swift.measurement,
          let speed = x(am, fm)
        else { continue }
        var p = "\(amp.title) vs \(fp32.title): \(speed) samples/s, peak memory \(Self.memoryChange(am, fm))"
        if let pa = a.pytorchEager?.measurement, let pf = f.pytorchEager?.measurement, let ps = x(pa, pf) {
          p += " (PyTorch eager: \(ps), \(Self.memoryChange(pa, pf)))"
        }
        parts.append(p)
      }
      if let g = entry(.gpuGraph)?.swift.measurement, entry(.gpuGraph)?.swift.measurement?.note == nil {
        var p: [String] = []
        if let e = entry(.gpuAMPBF16)?.pytorchEager?.measurement, let r = x(g, e) {
          p.append("\(r) PyTorch eager AMP BF16")
        }
        if let c = entry(.gpuGraph)?.pytorchCompile?.measurement, let r = x(g, c) {
          p.append("\(r) torch.compile(mode=\"reduce-overhead\")")
        }
        if let c = entry(.gpuAMPBF16)?.pytorchCompile?.measurement, let r = x(g, c) {
          p.append("\(r) torch.compile (default)")
        }
        if !p.isEmpty { parts.append("CUDA-graph step: " + p.joined(separator: ", ")) }
      }
      if !parts.isEmpty { out.append("\(label): " + parts.joined(separator: "; ")) }
    }
    return out
  }

  /// Reasons behind "skipped"/"failed" PyTorch cells and notes on Swift measurements (graph fallbacks).
  var footnotes: [String] {
    var out: [String] = []
    for e in entries {
      if let note = e.swift.measurement?.note { out.append("\(e.label), \(e.row.title), Swift: \(note)") }
      for (name, o) in [("PyTorch eager", e.pytorchEager), ("PyTorch compile", e.pytorchCompile)] {
        guard let o else { continue }
        switch o {
        case .ok(let m): if let n = m.note { out.append("\(e.label), \(e.row.title), \(name): \(n)") }
        case .skipped, .failed:
          if case .ok = e.swift { out.append("\(e.label), \(e.row.title), \(name): \(o.statusText)") }
        }
      }
    }
    var seen = Set<String>()
    return (notes + out).filter { seen.insert($0).inserted }
  }

  var summaryLine: String {
    var s = "\(date), \(machine), libtorch \(torchVersion)"
    if let gpuName { s += ", GPU \(gpuName)" }
    if let fusedKernels { s += ", \(fusedKernels)" }
    s += "; \(steps) timed steps after \(warmup) warm-up"
    return s
  }

  // MARK: renderings

  func terminalTable() -> String {
    var widths = header.map { _ in 0 }
    for (i, c) in header.enumerated() { widths[i] = c.count }
    for e in entries {
      // A skipped or failed row's reason runs on past the columns instead of widening them.
      let limit = e.swift.measurement == nil ? 2 : widths.count
      for (i, c) in cells(e).enumerated() where i < limit { widths[i] = max(widths[i], c.count) }
    }
    func line(_ r: [String], spanFrom: Int? = nil) -> String {
      var parts: [String] = []
      for (i, c) in r.enumerated() {
        if let spanFrom, i >= spanFrom {
          if i == spanFrom { parts.append(c) }
          continue
        }
        let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
        parts.append(i < 2 ? c + pad : pad + c)
      }
      var text = parts.joined(separator: "  ")
      while text.hasSuffix(" ") { text.removeLast() }
      return text
    }
    var out = [line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
    out += entries.map { line(cells($0), spanFrom: $0.swift.measurement == nil ? 2 : nil) }
    out.append("")
    out.append("(\(summaryLine); ratios > 1 mean TorchSwift is faster)")
    let heads = headlines
    if !heads.isEmpty {
      out.append("Headline ratios (TorchSwift):")
      for h in heads { out.append("  * \(h)") }
    }
    for n in footnotes { out.append("  - \(n)") }
    return out.joined(separator: "\n") + "\n"
  }

  func markdown() -> String {
    func esc(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }
    var out = ["Measured \(summaryLine).", ""]
    out.append("| " + header.map(esc).joined(separator: " | ") + " |")
    out.append("|" + header.enumerated().map { $0.offset < 2 ? "---" : "---:" }.joined(separator: "|") + "|")
    for e in entries { out.append("| " + cells(e).map(esc).joined(separator: " | ") + " |") }
    out.append("")
    out.append(
      "Ratios are TorchSwift samples/s ÷ PyTorch samples/s (> 1: TorchSwift is faster). MFU: analytical training "
        + "FLOPs per step (6 × matmul weights × tokens + attention) ÷ step time ÷ the GPU's dense peak for the row's precision."
    )
    let heads = headlines
    if !heads.isEmpty {
      out.append("")
      out.append("Headline ratios (TorchSwift):")
      out += heads.map { "- " + esc($0) }
    }
    let notes = footnotes
    if !notes.isEmpty {
      out.append("")
      out.append("Notes:")
      out += notes.map { "- " + esc($0) }
    }
    return out.joined(separator: "\n") + "\n"
  }

  static func outcomeJSON(_ o: Outcome?) -> Any {
    guard let o else { return NSNull() }
    switch o {
    case .ok(let m):
      var d: [String: Any] = [
        "status": "ok", "median_ms": m.medianMs, "p90_ms": m.p90Ms, "samples_per_s": m.samplesPerS,
        "peak_mem_bytes": m.peakMemBytes.map { $0 as Any } ?? NSNull()
      ]
      if let n = m.note { d["note"] = n }
      return d
    case .skipped(let r): return ["status": "skipped", "reason": r]
    case .failed(let r): return ["status": "failed", "reason": r]
    }
  }

  func jsonObject() -> [String: Any] {
    var results: [[String: Any]] = []
    for e in entries {
      var r: [String: Any] = [
        "scenario": e.scenario, "shape": e.shape, "row": e.row.rawValue, "row_title": e.row.title, "batch": e.batch,
        "flops_per_step": e.flopsPerStep, "precision": e.row.precision.rawValue, "swift": Self.outcomeJSON(e.swift)
      ]
      r["mfu"] = mfu(e, e.swift.measurement).map { $0 as Any } ?? NSNull()
      // Peak memory ÷ the same scenario's FP32 row's (Swift), and PyTorch eager's likewise.
      let base = baseline(e)
      r["peak_mem_vs_fp32"] = Self.memoryRatio(e.swift.measurement, base?.swift.measurement) ?? NSNull()
      if comparePyTorch {
        r["pytorch_eager"] = Self.outcomeJSON(e.pytorchEager)
        r["pytorch_compile"] = Self.outcomeJSON(e.pytorchCompile)
        r["pytorch_eager_mfu"] = mfu(e, e.pytorchEager?.measurement).map { $0 as Any } ?? NSNull()
        r["pytorch_compile_mfu"] = mfu(e, e.pytorchCompile?.measurement).map { $0 as Any } ?? NSNull()
        r["speedup_vs_eager"] = Self.ratioValue(e.swift, e.pytorchEager).map { $0 as Any } ?? NSNull()
        r["speedup_vs_compile"] = Self.ratioValue(e.swift, e.pytorchCompile).map { $0 as Any } ?? NSNull()
        r["pytorch_eager_peak_mem_vs_fp32"] =
          Self.memoryRatio(e.pytorchEager?.measurement, base?.pytorchEager?.measurement) ?? NSNull()
      }
      results.append(r)
    }
    return [
      "benchmark": "seed_table", "date": date, "machine": machine, "torch": torchVersion,
      "gpu": gpuName.map { $0 as Any } ?? NSNull(), "steps": steps, "warmup": warmup,
      "compare_pytorch": comparePyTorch, "fused_kernels": fusedKernels.map { $0 as Any } ?? NSNull(),
      "results": results, "headlines": headlines, "notes": footnotes
    ]
  }

  func json() throws -> String {
    let data = try JSONSerialization.data(withJSONObject: jsonObject(), options: [.prettyPrinted, .sortedKeys])
    return String(decoding: data, as: UTF8.self) + "\n"
  }

  /// Horizontal bars of samples/s per row, TorchSwift beside PyTorch eager and compiled, one scale per scenario.
  func svg() -> String {
    func esc(_ s: String) -> String {
      s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
    func num(_ v: Double) -> String { String(format: "%.1f", v) }
    let series: [(String, String, (TableEntry) -> Outcome?)] =
      [("TorchSwift", "#e4572e", { $0.swift })]
      + (comparePyTorch
        ? [("PyTorch eager", "#4c78a8", { $0.pytorchEager }), ("PyTorch compile", "#72b7b2", { $0.pytorchCompile })]
        : [])
    let width = 980.0, labelW = 330.0, barMax = width - labelW - 110, barH = 11.0
    var y = 62.0
    var body: [String] = []
    var groups: [String] = []
    for e in entries where !groups.contains(e.label) { groups.append(e.label) }
    for g in groups {
      let rows = entries.filter { $0.label == g }
      let maxV = rows.flatMap { e in series.compactMap { $0.2(e)?.measurement?.samplesPerS } }.max() ?? 0
      body.append("<text x=\"10\" y=\"\(num(y + 12))\" font-size=\"13\" font-weight=\"bold\">\(esc(g))</text>")
      y += 20
      for e in rows {
        if !series.contains(where: { $0.2(e)?.measurement != nil }) {
          // Nothing measured: one grey line with the reason.
          body.append(
            "<text x=\"\(num(labelW - 8))\" y=\"\(num(y + barH))\" font-size=\"11\" text-anchor=\"end\">\(esc(e.row.title))</text>"
          )
          body.append(
            "<text x=\"\(num(labelW + 2))\" y=\"\(num(y + barH))\" font-size=\"10\" fill=\"#888888\">\(esc(e.swift.statusText))</text>"
          )
          y += barH + 8
          continue
        }
        let rowH = Double(series.count) * (barH + 2) + 8
        body.append(
          "<text x=\"\(num(labelW - 8))\" y=\"\(num(y + rowH / 2))\" font-size=\"11\" text-anchor=\"end\">\(esc(e.row.title))</text>"
        )
        var by = y
        for (name, color, get) in series {
          if let m = get(e)?.measurement, maxV > 0 {
            let w = max(1, barMax * m.samplesPerS / maxV)
            body.append(
              "<rect x=\"\(num(labelW))\" y=\"\(num(by))\" width=\"\(num(w))\" height=\"\(num(barH))\" fill=\"\(color)\"><title>\(esc(name)): \(Self.fmtCount(m.samplesPerS)) samples/s</title></rect>"
            )
            body.append(
              "<text x=\"\(num(labelW + w + 4))\" y=\"\(num(by + barH - 1))\" font-size=\"10\">\(Self.fmtCount(m.samplesPerS))</text>"
            )
          } else if let o = get(e) {
            let text = o.measurement == nil ? (o.statusText.hasPrefix("skipped") ? "skipped" : "failed") : ""
            body.append(
              "<text x=\"\(num(labelW + 2))\" y=\"\(num(by + barH - 1))\" font-size=\"10\" fill=\"#888888\">\(esc(name)): \(text)</text>"
            )
          }
          by += barH + 2
        }
        y += rowH
      }
      y += 10
    }
    var legend: [String] = []
    var lx = labelW
    for (name, color, _) in series {
      legend.append(
        "<rect x=\"\(num(lx))\" y=\"40\" width=\"12\" height=\"12\" fill=\"\(color)\"/><text x=\"\(num(lx + 16))\" y=\"50\" font-size=\"11\">\(esc(name))</text>"
      )
      lx += 150
    }
    let height = y + 10
    return """
      <?xml version="1.0" encoding="UTF-8"?>
      <svg xmlns="http://www.w3.org/2000/svg" width="\(num(width))" height="\(num(height))" viewBox="0 0 \(num(width)) \(num(height))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
      <rect width="100%" height="100%" fill="#ffffff"/>
      <text x="10" y="18" font-size="14" font-weight="bold">Training step throughput (samples/s, longer is faster; one scale per scenario)</text>
      <text x="10" y="32" font-size="10" fill="#555555">\(esc(summaryLine))</text>
      \(legend.joined(separator: "\n"))
      \(body.joined(separator: "\n"))
      </svg>

      """
  }
}
