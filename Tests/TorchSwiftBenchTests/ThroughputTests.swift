import XCTest

@testable import torchswift_bench

final class ThroughputTests: XCTestCase {
  func testEncoderTrainingFLOPsByHand() {
    // The seed's encoder: 6 layers, d 512, ff 2048, input [10, 32, 512].
    let f = TransformerFLOPs(layers: 6, dModel: 512, feedForward: 2048, headLabels: nil)
    let perLayer = 4.0 * 512 * 512 + 2.0 * 512 * 2048  // 3,145,728 weights
    XCTAssertEqual(f.perTokenWeights, 6 * perLayer)
    let dense = 6 * (6 * perLayer) * (32 * 10)  // 6 · N · tokens
    let attention = 12.0 * 6 * 10 * 10 * 512 * 32  // 12 · L · T² · d per sequence
    XCTAssertEqual(f.trainingFLOPs(batch: 32, seq: 10), dense + attention)
    XCTAssertEqual(f.trainingFLOPs(batch: 32, seq: 10), 36_356_751_360)
  }

  func testBertBaseFLOPsIncludeHeadAndGrowQuadraticallyInAttention() {
    let f = TransformerFLOPs(layers: 12, dModel: 768, feedForward: 3072, headLabels: 2)
    // BERT-base's encoder holds 12 · (4·768² + 2·768·3072) = 84,934,656 matmul weights (the famous ~85M).
    XCTAssertEqual(f.perTokenWeights, 84_934_656)
    let b = 32.0, t = 512.0
    let expected = 6 * 84_934_656 * b * t + 12 * 12 * t * t * 768 * b + 6 * b * (768 * 768 + 768 * 2)
    XCTAssertEqual(f.trainingFLOPs(batch: 32, seq: 512), expected)
    // About 9.3 TFLOP per step: 6 · 85M weights · 16,384 tokens = 8.35e12, plus 0.93e12 of attention.
    XCTAssertEqual(f.trainingFLOPs(batch: 32, seq: 512) / 1e12, 9.28, accuracy: 0.01)
  }

  func testPeakTableAndMFU() {
    XCTAssertEqual(PeakThroughput.tflops(deviceName: "NVIDIA H100 80GB HBM3", precision: .bf16), 989)
    XCTAssertEqual(PeakThroughput.tflops(deviceName: "NVIDIA H100 80GB HBM3", precision: .fp16), 989)
    XCTAssertEqual(PeakThroughput.tflops(deviceName: "NVIDIA H100 80GB HBM3", precision: .tf32), 494)
    XCTAssertEqual(PeakThroughput.tflops(deviceName: "NVIDIA H100 80GB HBM3", precision: .fp32), 67)
    XCTAssertEqual(PeakThroughput.tflops(deviceName: "NVIDIA H100 PCIe", precision: .bf16), 756)
    XCTAssertEqual(PeakThroughput.tflops(deviceName: "NVIDIA H200", precision: .tf32), 494)
    XCTAssertEqual(PeakThroughput.tflops(deviceName: "NVIDIA A100-SXM4-80GB", precision: .bf16), 312)
    XCTAssertEqual(PeakThroughput.tflops(deviceName: "NVIDIA A100-SXM4-40GB", precision: .tf32), 156)
    XCTAssertEqual(PeakThroughput.tflops(deviceName: "NVIDIA A100 80GB PCIe", precision: .fp32), 19.5)
    XCTAssertNil(PeakThroughput.tflops(deviceName: "Tesla T4", precision: .fp16))
    // 494.5 TFLOP in a 1 s step on a 989 TFLOP/s part: 50 %.
    let mfu = PeakThroughput.mfu(
      flopsPerStep: 494.5e12, stepMs: 1000, deviceName: "NVIDIA H100 80GB HBM3", precision: .bf16)
    XCTAssertEqual(mfu!, 0.5, accuracy: 1e-12)
    XCTAssertNil(PeakThroughput.mfu(flopsPerStep: 1e12, stepMs: 10, deviceName: "Tesla T4", precision: .fp16))
    XCTAssertNil(PeakThroughput.mfu(flopsPerStep: 1e12, stepMs: 0, deviceName: "NVIDIA H200", precision: .bf16))
  }

  func testStepStatistics() {
    let odd = StepStatistics([5, 1, 3, 2, 4])!
    XCTAssertEqual(odd.median, 3)
    XCTAssertEqual(odd.p90, 5)
    let ten = StepStatistics((1...10).map(Double.init))!
    XCTAssertEqual(ten.median, 5.5)
    XCTAssertEqual(ten.p90, 9)  // nearest rank: ceil(0.9 · 10) = 9th
    let twenty = StepStatistics((1...20).map(Double.init))!
    XCTAssertEqual(twenty.p90, 18)
    XCTAssertNil(StepStatistics([]))
  }
}
