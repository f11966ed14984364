import XCTest

@testable import torchswift

final class DriverRequirementsTests: XCTestCase {
  func testVersionsCompareNumerically() {
    XCTAssertLessThan(DottedVersion("570.26")!, DottedVersion("570.124.06")!)
    XCTAssertLessThan(DottedVersion("525.60.13")!, DottedVersion("525.105.17")!)
    XCTAssertEqual(DottedVersion("570.26")!, DottedVersion("570.26.0")!)
    XCTAssertNil(DottedVersion("x86_64"))
    XCTAssertNil(DottedVersion("570..1"))
    XCTAssertNil(DottedVersion(""))
  }

  func testFullSupport() {
    XCTAssertEqual(DriverRequirements.check(cuda: "12.8", driver: "570.124.06"), .ok(required: "570.26"))
    XCTAssertEqual(DriverRequirements.check(cuda: "12.8", driver: "570.26"), .ok(required: "570.26"))
    XCTAssertEqual(DriverRequirements.check(cuda: "11.8", driver: "520.61.05"), .ok(required: "520.61.05"))
    XCTAssertEqual(DriverRequirements.check(cuda: "13.0", driver: "580.65.06"), .ok(required: "580.65.06"))
    XCTAssertEqual(DriverRequirements.check(cuda: "12.6.3", driver: "560.35.03"), .ok(required: "560.28.03"))
  }

  func testMinorVersionCompatibility() {
    // A 12.x driver older than 12.8's GA driver still runs 12.8 code (minor version compatibility).
    XCTAssertEqual(
      DriverRequirements.check(cuda: "12.8", driver: "535.183.01"),
      .minorCompatibility(fullSupportNeeds: "570.26", minimum: "525.60.13"))
    XCTAssertEqual(
      DriverRequirements.check(cuda: "11.8", driver: "470.82.01"),
      .minorCompatibility(fullSupportNeeds: "520.61.05", minimum: "450.80.02"))
    // A release missing from the table is judged by its major version's minimum only.
    XCTAssertEqual(
      DriverRequirements.check(cuda: "13.1", driver: "580.95.05"),
      .minorCompatibility(fullSupportNeeds: nil, minimum: "580.65.06"))
  }

  func testTooOldAndUnknown() {
    XCTAssertEqual(DriverRequirements.check(cuda: "12.8", driver: "520.61.05"), .tooOld(minimum: "525.60.13"))
    XCTAssertEqual(DriverRequirements.check(cuda: "13.0", driver: "575.57.08"), .tooOld(minimum: "580.65.06"))
    XCTAssertEqual(DriverRequirements.check(cuda: "11.8", driver: "418.87"), .tooOld(minimum: "450.80.02"))
    guard case .unknown = DriverRequirements.check(cuda: "10.2", driver: "440.33") else {
      return XCTFail("10.2 is outside the table")
    }
    guard case .unknown = DriverRequirements.check(cuda: "12.8", driver: "latest") else {
      return XCTFail("unreadable driver")
    }
  }

  func testProcDriverBanner() {
    let proprietary = """
      NVRM version: NVIDIA UNIX x86_64 Kernel Module  570.124.06  Wed Feb 26 01:26:52 UTC 2025
      GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)
      """
    XCTAssertEqual(DriverRequirements.parseProcVersion(proprietary), "570.124.06")
    let open =
      "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.65.06  Release Build  (dvs-builder@U16-I3-B03-4-3)  Sun Jul 27 06:54:38 UTC 2025\n"
    XCTAssertEqual(DriverRequirements.parseProcVersion(open), "580.65.06")
    XCTAssertNil(DriverRequirements.parseProcVersion("GCC version: 12.2.0\n"))
  }
}
