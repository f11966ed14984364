import Foundation
import ReferenceTesting
import XCTest

@testable import Torch

/// `Tensor.saveNPY` against NumPy's own reader: dtype, shape and every element, for each dtype NumPy has,
/// scalars and empty tensors included.
final class NPYFileTests: XCTestCase {
  func testNumPyLoadsWhatSaveNPYWrote() throws {
    let dir = try ReferenceTools.temporaryDirectory(self).path
    var cases: [(String, Tensor)] = [
      ("f32", try Tensor([1.5, -2, 3.25, .infinity, 0, 7] as [Float], shape: [2, 3])),
      ("f64", try Tensor([1e-300, 2, -3] as [Double])),
      ("f16", try Tensor([0.5, 1, -65504] as [Float], shape: [3, 1], dtype: .float16)),
      ("i64", try Tensor([Int64.max, -1, 0, 42] as [Int64], shape: [2, 1, 2])),
      ("i32", try Tensor([Int32.min, 5] as [Int32])),
      ("u8", try Tensor([0, 255, 7] as [UInt8])),
      ("bool", try Tensor([1, 0, 1, 1] as [Float], shape: [2, 2]).to(dtype: .bool)),
      ("scalar", try Tensor(scalar: Float(3.5))),
      ("empty", try Tensor([] as [Float], shape: [0, 384])),
      // A non-contiguous view is written in its logical (C) order.
      ("transposed", try Tensor((0..<6).map(Float.init), shape: [2, 3]).transpose(0, 1))
    ]
    // The header is padded to 64 bytes for every rank, including long shapes.
    cases.append(("long-shape", try Tensor([Float](repeating: 1, count: 1), shape: Array(repeating: 1, count: 20))))
    var expected: [String: Any] = [:]
    for (name, t) in cases {
      try t.saveNPY(to: "\(dir)/\(name).npy")
      expected[name] = ["shape": t.shape, "values": try t.toArray(Double.self).map { $0.isFinite ? $0 : 1e308 }]
    }
    let request = String(decoding: try JSONSerialization.data(withJSONObject: expected), as: UTF8.self)
    let out = try ReferenceTools.runPython([
      "-c",
      """
      import json, sys, numpy as np
      exp = json.loads(sys.argv[2])
      res = {}
      for name, e in exp.items():
          path = f"{sys.argv[1]}/{name}.npy"
          raw = open(path, 'rb').read()
          hlen = int.from_bytes(raw[8:10], 'little')
          a = np.load(path)
          vals = np.nan_to_num(a.astype(np.float64).ravel(), posinf=1e308).tolist()
          res[name] = {'dtype': a.dtype.str, 'shape': list(a.shape), 'ok': vals == e['values'],
                       'aligned': (10 + hlen) % 64 == 0, 'c_order': not np.isfortran(a) or a.ndim < 2}
      print(json.dumps(res))
      """, dir, request
    ])
    let got = try JSONSerialization.jsonObject(with: out) as! [String: [String: Any]]
    let dtypes = [
      "f32": "<f4", "f64": "<f8", "f16": "<f2", "i64": "<i8", "i32": "<i4", "u8": "|u1", "bool": "|b1",
      "scalar": "<f4", "empty": "<f4", "transposed": "<f4", "long-shape": "<f4"
    ]
    for (name, t) in cases {
      let r = try XCTUnwrap(got[name], name)
      XCTAssertEqual(r["dtype"] as? String, dtypes[name], name)
      XCTAssertEqual(r["shape"] as? [Int], t.shape, name)
      XCTAssertEqual(r["ok"] as? Bool, true, "\(name): values differ")
      XCTAssertEqual(r["aligned"] as? Bool, true, "\(name): header not padded to 64 bytes")
    }
  }

  func testBFloat16IsRefusedWithAReason() throws {
    let dir = try ReferenceTools.temporaryDirectory(self).path
    let t = try Tensor([1, 2] as [Float], dtype: .bfloat16)
    XCTAssertThrowsError(try t.saveNPY(to: dir + "/x.npy")) {
      XCTAssertTrue("\($0)".contains("NumPy has no"), "\($0)")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.npy"))
  }
}
