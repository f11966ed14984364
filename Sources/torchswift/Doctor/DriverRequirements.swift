import Foundation

/// A dotted version number ("570.124.06", "12.8") compared numerically, component by component.
struct DottedVersion: Comparable, CustomStringConvertible {
  var parts: [Int]
  var text: String

  init?(_ s: String) {
    let trimmed = s.trimmingCharacters(in: .whitespacesAndNewlines)
    let comps = trimmed.split(separator: ".", omittingEmptySubsequences: false)
    guard !comps.isEmpty, comps.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && Int($0) != nil }) else {
      return nil
    }
    parts = comps.map { Int($0)! }
    text = trimmed
  }

  var description: String { text }

  static func < (a: DottedVersion, b: DottedVersion) -> Bool {
    for i in 0..<max(a.parts.count, b.parts.count) {
      let x = i < a.parts.count ? a.parts[i] : 0
      let y = i < b.parts.count ? b.parts[i] : 0
      if x != y { return x < y }
    }
    return false
  }

  static func == (a: DottedVersion, b: DottedVersion) -> Bool { !(a < b) && !(b < a) }
}

/// NVIDIA's minimum Linux x86-64 driver versions (CUDA Toolkit release notes, "CUDA Toolkit and Corresponding
/// Driver Versions" and "minor version compatibility").
enum DriverRequirements {
  /// Driver that fully supports each CUDA release (its GA toolkit's driver).
  static let fullSupport: [(cuda: String, driver: String)] = [
    ("11.8", "520.61.05"),
    ("12.0", "525.60.13"),
    ("12.1", "530.30.02"),
    ("12.2", "535.54.03"),
    ("12.3", "545.23.06"),
    ("12.4", "550.54.14"),
    ("12.5", "555.42.02"),
    ("12.6", "560.28.03"),
    ("12.8", "570.26"),
    ("12.9", "575.51.03"),
    ("13.0", "580.65.06")
  ]

  /// Oldest driver that runs any release of a CUDA major version through minor version compatibility
  /// (no PTX JIT of newer code, some newer APIs unavailable).
  static let minorCompatibility: [Int: String] = [11: "450.80.02", 12: "525.60.13", 13: "580.65.06"]

  enum Verdict: Equatable {
    /// The driver fully supports this CUDA release.
    case ok(required: String)
    /// The driver runs this release only through minor version compatibility.
    case minorCompatibility(fullSupportNeeds: String?, minimum: String)
    /// The driver is too old for this CUDA major version.
    case tooOld(minimum: String)
    /// CUDA release or driver version not understood.
    case unknown(String)
  }

  /// Compares a driver version ("570.124.06") with what a CUDA release ("12.8", "12.8.1") needs.
  static func check(cuda: String, driver: String) -> Verdict {
    guard let drv = DottedVersion(driver) else { return .unknown("cannot read driver version '\(driver)'") }
    guard let cv = DottedVersion(cuda), cv.parts.count >= 2 else {
      return .unknown("cannot read CUDA version '\(cuda)'")
    }
    let major = cv.parts[0], minor = cv.parts[1]
    guard let compatMin = minorCompatibility[major] else {
      return .unknown("CUDA \(cuda) is outside TorchSwift's driver table (11.8 to 13.x)")
    }
    let full = fullSupport.first { DottedVersion($0.cuda)!.parts == [major, minor] }?.driver
    if let full, drv >= DottedVersion(full)! { return .ok(required: full) }
    if drv >= DottedVersion(compatMin)! { return .minorCompatibility(fullSupportNeeds: full, minimum: compatMin) }
    return .tooOld(minimum: compatMin)
  }

  /// The driver version from the kernel module's banner in /proc/driver/nvidia/version
  /// ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  570.124.06  Wed Feb 26 ...").
  static func parseProcVersion(_ text: String) -> String? {
    for line in text.split(separator: "\n") where line.contains("NVRM version") {
      for word in line.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
        let w = String(word)
        if let v = DottedVersion(w), v.parts.count >= 2, v.parts[0] >= 100 { return w }
      }
    }
    return nil
  }
}
