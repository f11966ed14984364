import Foundation
import XCTest

/// scripts/setup.sh --check-only with a fake LIBTORCH of each broken shape (made in a temp folder): setup must stop
/// with a message naming the problem and the fix, never a bare exit status; a CUDA torch without CUDA headers beside
/// it must not stop it. --check-only writes nothing, so the real .torchswift/ is never touched.
final class SetupErrorTests: XCTestCase {
  var dir: URL!

  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let script = root.appendingPathComponent("scripts/setup.sh").path

  override func setUpWithError() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent("setup-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: dir)
  }

  struct Run {
    var status: Int32
    var output: String
  }

  /// Runs `setup.sh --check-only` with LIBTORCH (no CUDA_HOME, no TORCHSWIFT_CUDA_INCLUDE).
  func setup(libtorch: String) throws -> Run {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/bash")
    p.arguments = [Self.script, "--check-only"]
    p.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": dir.path, "LIBTORCH": libtorch]
    let out = dir.appendingPathComponent("out.txt")
    FileManager.default.createFile(atPath: out.path, contents: nil)
    let handle = try FileHandle(forWritingTo: out)
    p.standardOutput = handle
    p.standardError = handle
    try p.run()
    p.waitUntilExit()
    try handle.close()
    return Run(status: p.terminationStatus, output: try String(contentsOf: out, encoding: .utf8))
  }

  /// A fake torch folder: `files` (paths relative to it) created empty, `version.py` with `version` when given.
  func fakeTorch(_ name: String, files: [String], version: String? = "2.11.0+cu130") throws -> String {
    let base = dir.appendingPathComponent(name)
    for f in files {
      let url = base.appendingPathComponent(f)
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      FileManager.default.createFile(atPath: url.path, contents: Data())
    }
    try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
    if let version {
      try "__version__ = '\(version)'\ncuda = '13.0'\n".write(
        to: base.appendingPathComponent("version.py"), atomically: true, encoding: .utf8)
    }
    return base.path
  }

  static let headers = ["include/ATen/ATen.h", "include/torch/csrc/api/include/torch/version.h"]
  static let cpuLibs = ["lib/libtorch_cpu.so", "lib/libtorch.so", "lib/libc10.so"]

  /// Setup stopped (exit 1) with an error naming `problem` and a fix line containing `fix`.
  func assertStops(_ r: Run, problem: String, fix: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(r.status, 1, r.output, file: file, line: line)
    XCTAssertTrue(r.output.contains("setup: error: "), "no error line in: \(r.output)", file: file, line: line)
    XCTAssertTrue(
      r.output.contains(problem), "the problem '\(problem)' is not named in: \(r.output)", file: file, line: line)
    let fixLine = r.output.split(separator: "\n").first { $0.contains("fix:") }.map(String.init) ?? ""
    XCTAssertTrue(fixLine.contains(fix), "the fix '\(fix)' is not given in: \(r.output)", file: file, line: line)
    XCTAssertFalse(
      r.output.contains("stopped (exit"), "setup stopped somewhere unplanned: \(r.output)", file: file, line: line)
  }

  func testMissingFolderAndFilesNameTheProblemAndTheFix() throws {
    assertStops(
      try setup(libtorch: dir.appendingPathComponent("nowhere").path), problem: "does not exist",
      fix: "LIBTORCH must be the torch folder holding include/ and lib/")
    let wheel = dir.appendingPathComponent("torch-2.11.0-cp311-cp311-manylinux_2_28_x86_64.whl").path
    FileManager.default.createFile(atPath: wheel, contents: Data())
    assertStops(try setup(libtorch: wheel), problem: "is a wheel file, not a folder", fix: "/torch")
    let lib = dir.appendingPathComponent("libtorch_cpu.so").path
    FileManager.default.createFile(atPath: lib, contents: Data())
    assertStops(try setup(libtorch: lib), problem: "is a file, not a folder", fix: "include/ and lib/")
  }

  func testParentFolderPointsAtTorchInside() throws {
    let unzipped = try fakeTorch("unzipped/torch", files: Self.headers + Self.cpuLibs)
    let parent = URL(fileURLWithPath: unzipped).deletingLastPathComponent().path
    assertStops(try setup(libtorch: parent), problem: "holds torch in torch/", fix: "set LIBTORCH=\(unzipped)")
    let archive = try fakeTorch("archive/libtorch", files: Self.headers + Self.cpuLibs)
    assertStops(
      try setup(libtorch: URL(fileURLWithPath: archive).deletingLastPathComponent().path),
      problem: "holds torch in libtorch/", fix: "set LIBTORCH=\(archive)")
  }

  func testMissingHeadersOrLibrariesNameWhatIsMissing() throws {
    assertStops(
      try setup(libtorch: try fakeTorch("noinclude", files: Self.cpuLibs)), problem: "has no include/ folder",
      fix: "LIBTORCH must be the torch folder")
    assertStops(
      try setup(libtorch: try fakeTorch("nolib", files: Self.headers)), problem: "has no lib/ folder",
      fix: "LIBTORCH must be the torch folder")
    assertStops(
      try setup(libtorch: try fakeTorch("nocpu", files: Self.headers + ["lib/libc10.so"])),
      problem: "has no libtorch_cpu.so", fix: "LIBTORCH must be the torch folder")
    assertStops(
      try setup(libtorch: try fakeTorch("macos", files: Self.headers + ["lib/libtorch_cpu.dylib", "lib/libc10.dylib"])),
      problem: "libtorch_cpu.dylib", fix: "Linux build of torch")
    assertStops(
      try setup(libtorch: try fakeTorch("partial", files: Self.headers + ["lib/libtorch_cpu.so"])),
      problem: "no libtorch.so: an incomplete copy", fix: "again")
    assertStops(
      try setup(libtorch: try fakeTorch("noheaders", files: ["include/README"] + Self.cpuLibs)),
      problem: "no ATen/ATen.h", fix: "ships its C++ headers")
  }

  func testUnreadableVersionStops() throws {
    let torch = try fakeTorch("noversion", files: Self.headers + Self.cpuLibs, version: nil)
    assertStops(try setup(libtorch: torch), problem: "cannot read the version", fix: "complete torch")
  }

  func testVersionFromHeadersWhenNoVersionFile() throws {
    // A standalone libtorch archive without build-version: the version its headers define.
    let torch = try fakeTorch("headeronly", files: Self.headers + Self.cpuLibs, version: nil)
    try "#define TORCH_VERSION \"2.10.0\"\n".write(
      toFile: torch + "/include/torch/csrc/api/include/torch/version.h", atomically: true, encoding: .utf8)
    let r = try setup(libtorch: torch)
    XCTAssertEqual(r.status, 0, r.output)
    XCTAssertTrue(r.output.contains("libtorch 2.10.0 at"), r.output)
  }

  func testCUDABuildWithoutCUDAHeadersWarnsAndGoesOn() throws {
    // An unzipped CUDA wheel (or the standalone CUDA libtorch): libtorch_cuda.so, no nvidia/*/include beside it.
    let torch = try fakeTorch(
      "cuda/torch", files: Self.headers + Self.cpuLibs + ["lib/libtorch_cuda.so", "lib/libc10_cuda.so"])
    let r = try setup(libtorch: torch)
    XCTAssertEqual(r.status, 0, r.output)
    XCTAssertFalse(r.output.contains("error"), r.output)
    XCTAssertTrue(r.output.contains("setup would go on"), r.output)
    XCTAssertTrue(r.output.contains("CUDA libraries present"), r.output)
    if !FileManager.default.fileExists(atPath: "/usr/local/cuda/include/cuda_runtime_api.h") {
      XCTAssertTrue(r.output.contains("is a CUDA build but no CUDA headers were found"), r.output)
      XCTAssertTrue(r.output.contains("without its CUDA part"), r.output)
      XCTAssertTrue(r.output.contains("set CUDA_HOME"), r.output)
    }
  }

  func testUnsupportedVersionWarns() throws {
    let torch = try fakeTorch("old", files: Self.headers + Self.cpuLibs, version: "2.5.1+cpu")
    let r = try setup(libtorch: torch)
    XCTAssertEqual(r.status, 0, r.output)
    XCTAssertTrue(r.output.contains("outside the supported 2.8 to 2.11"), r.output)
  }
}
