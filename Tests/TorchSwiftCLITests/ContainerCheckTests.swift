import XCTest

@testable import torchswift

final class ContainerCheckTests: XCTestCase {
  func testEngineFromMarkerFilesAndEnvironment() {
    func engine(_ files: Set<String>, _ env: [String: String] = [:]) -> String? {
      ContainerCheck.engine(environment: env, fileExists: { files.contains($0) })
    }
    XCTAssertNil(engine([]))
    XCTAssertEqual(engine(["/.dockerenv"]), "Docker")
    XCTAssertEqual(engine(["/run/.containerenv"]), "Podman")
    // Podman run with Docker compatibility may write both; /run/.containerenv is Podman's own.
    XCTAssertEqual(engine(["/.dockerenv", "/run/.containerenv"]), "Podman")
    XCTAssertEqual(engine([], ["container": "podman"]), "Podman")
    XCTAssertEqual(engine([], ["container": "lxc"]), "lxc")
    XCTAssertNil(engine([], ["container": ""]))
  }

  func testNvidiaVisibleDevices() {
    XCTAssertEqual(ContainerCheck.describeNvidiaVisibleDevices(nil), "(not set)")
    XCTAssertTrue(ContainerCheck.describeNvidiaVisibleDevices("all").hasPrefix("all (every GPU"))
    XCTAssertTrue(ContainerCheck.describeNvidiaVisibleDevices("void").hasSuffix("no GPU exposed to the container"))
    XCTAssertTrue(ContainerCheck.describeNvidiaVisibleDevices("none").contains("no GPU exposed"))
    XCTAssertTrue(ContainerCheck.describeNvidiaVisibleDevices("").hasPrefix("(empty): no GPU exposed"))
    XCTAssertEqual(ContainerCheck.describeNvidiaVisibleDevices("0,2"), "0,2")
    XCTAssertEqual(ContainerCheck.describeNvidiaVisibleDevices("GPU-5b1d1f0e"), "GPU-5b1d1f0e")
  }

  func testNoDriverAdviceNamesTheFlagsAndCUDA() {
    let advice = ContainerCheck.noDriverAdvice(engine: "Docker", cuda: "12.8")
    XCTAssertTrue(advice.contains("Docker container"), advice)
    XCTAssertTrue(advice.contains("--gpus all"), advice)
    XCTAssertTrue(advice.contains("--device nvidia.com/gpu=all"), advice)
    XCTAssertTrue(advice.hasSuffix("support CUDA 12.8"), advice)
  }

  func testSharedMemoryWarningBelowOneGiB() {
    // Docker's default /dev/shm is 64 MiB.
    let w = ContainerCheck.sharedMemoryWarning(bytes: 64 << 20)
    XCTAssertNotNil(w)
    XCTAssertTrue(w!.hasPrefix("/dev/shm is 64 MiB"), w!)
    XCTAssertTrue(w!.contains("--shm-size=8g"), w!)
    XCTAssertTrue(w!.contains("--ipc=host"), w!)
    XCTAssertNotNil(ContainerCheck.sharedMemoryWarning(bytes: (1 << 30) - 1))
    XCTAssertNil(ContainerCheck.sharedMemoryWarning(bytes: 1 << 30))
    XCTAssertNil(ContainerCheck.sharedMemoryWarning(bytes: 8 << 30))
  }
}
