"""Reference reading of TensorBoard event files with tensorboard's own loaders.

usage:
  tensorboard_reference.py crc <hex>...
      -> JSON [[crc32c, masked_crc32c], ...] from tensorboard's pure-Python implementation
  tensorboard_reference.py scalars <logdir>
      -> JSON {"scalars": {tag: [[step, float32 bits, wall_time], ...]},
               "tensors": {tag: [[step, float32 bits, wall_time], ...]},
               "file_version": ...}
         "scalars" from event_accumulator.EventAccumulator(...).Scalars (simple_value form),
         "tensors" from plugin_event_accumulator.EventAccumulator(...).Tensors (either form,
         simple_value converted by TensorBoard's data_compat), all with size_guidance 0 (= all).
"""
import json
import struct
import sys

from tensorboard.backend.event_processing import event_accumulator, plugin_event_accumulator
from tensorboard.compat.tensorflow_stub import pywrap_tensorflow
from tensorboard.util import tensor_util


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def crc(hex_inputs):
    out = []
    for h in hex_inputs:
        data = bytes.fromhex(h)
        out.append([pywrap_tensorflow.crc32c(data), pywrap_tensorflow.masked_crc32c(data)])
    return out


def scalars(logdir):
    acc = event_accumulator.EventAccumulator(
        logdir, size_guidance={event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0})
    acc.Reload()
    out_scalars = {
        tag: [[e.step, f32_bits(e.value), e.wall_time] for e in acc.Scalars(tag)]
        for tag in acc.Tags()[event_accumulator.SCALARS]
    }
    plugin_acc = plugin_event_accumulator.EventAccumulator(
        logdir, size_guidance={plugin_event_accumulator.TENSORS: 0})
    plugin_acc.Reload()
    out_tensors = {}
    for tag in plugin_acc.Tags()[plugin_event_accumulator.TENSORS]:
        rows = []
        for e in plugin_acc.Tensors(tag):
            value = tensor_util.make_ndarray(e.tensor_proto).item()
            rows.append([e.step, f32_bits(value), e.wall_time])
        out_tensors[tag] = rows
    return {"scalars": out_scalars, "tensors": out_tensors, "file_version": acc.file_version,
            "scalar_plugin_tags": sorted(plugin_acc.PluginTagToContent("scalars").keys())}


def main():
    if sys.argv[1] == "crc":
        json.dump(crc(sys.argv[2:]), sys.stdout)
    elif sys.argv[1] == "scalars":
        json.dump(scalars(sys.argv[2]), sys.stdout)
    else:
        raise SystemExit(f"unknown command {sys.argv[1]}")


if __name__ == "__main__":
    main()
