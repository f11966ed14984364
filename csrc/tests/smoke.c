// The C layer's smoke test (make -C csrc smoke; scripts/check-torch.sh runs it for each supported torch):
// libctorch.so loads with the libtorch it was built against, computes on the CPU, runs autograd, and drives
// the torch-version-dependent c10d code (a one-rank Gloo group and DDP's Reducer: build, backward, rebuild).
// Prints one line per check; exit status 0 when all pass.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../Sources/CTorch/ctorch.h"
#include "../../Sources/CTorch/ctorch_distributed.h"
#include "../../Sources/CTorch/generated/ctorch_generated.h"

static int failures = 0;

static void check(int ok, const char *what) {
  printf("smoke: %-44s %s\n", what, ok ? "ok" : "FAILED");
  if (!ok) failures++;
}

// Stops on a C-layer error, with libtorch's message.
#define CALL(expr)                                                                  \
  do {                                                                              \
    if ((expr) != 0) {                                                              \
      printf("smoke: %s failed: %s\nsmoke: FAILED\n", #expr, ts_last_error());      \
      return 1;                                                                     \
    }                                                                               \
  } while (0)

static int vec(ts_tensor *out, const float *v, int64_t n) {
  return ts_tensor_from_data(out, v, n * (int64_t)sizeof(float), &n, 1, /*float*/ 6, /*cpu*/ 0, -1);
}

static int read_vec(ts_tensor t, float *v, int64_t n) { return ts_tensor_copy_to(t, v, n * (int64_t)sizeof(float)); }

int main(void) {
  const char *path = NULL, *runtime = NULL;
  CALL(ts_runtime_info(&path, &runtime));
  const char *built = ts_build_version();
  printf("smoke: built against torch %s; loaded %s (torch %s)\n", built, path ? path : "?", runtime ? runtime : "?");
  check(runtime && strncmp(runtime, built, strlen(built)) == 0, "loaded libtorch is the one it was built for");

  const float xs[3] = {1, 2, 3}, ys[2] = {4, 5};
  ts_tensor x, y, d;
  CALL(vec(&x, xs, 3));
  CALL(vec(&y, ys, 2));
  CALL(atg_dot(&d, x, x));
  ts_scalar s;
  CALL(ts_tensor_item(d, &s));
  check(fabs(s.d - 14.0) < 1e-6, "CPU tensor math (dot = 14)");
  ts_tensor_free(d);

  // Autograd: d(w . x)/dw = x.
  ts_tensor w1, w2, l1, l2, loss, g;
  const float w1s[3] = {0.5f, -1, 2}, w2s[2] = {1, 1};
  CALL(vec(&w1, w1s, 3));
  CALL(vec(&w2, w2s, 2));
  CALL(ts_tensor_set_requires_grad(w1, 1));
  CALL(ts_tensor_set_requires_grad(w2, 1));
  CALL(atg_dot(&l1, w1, x));
  ts_tensor none = NULL;
  CALL(ts_backward(&l1, 1, &none, 0, 0));
  float gv[3] = {0};
  CALL(ts_tensor_grad(&g, w1));
  CALL(read_vec(g, gv, 3));
  check(gv[0] == 1 && gv[1] == 2 && gv[2] == 3, "autograd (grad of w . x is x)");
  ts_tensor_free(g);
  ts_tensor_free(l1);

  // c10d: a one-rank Gloo group and DDP's Reducer (its constructor differs across torch versions).
  uint8_t gloo = 0, nccl = 0;
  CALL(ts_distributed_backends(&gloo, &nccl));
  if (!gloo) {
    printf("smoke: %-44s %s\n", "Gloo group and DDP Reducer", "skipped (built without gloo's headers)");
  } else {
    setenv("GLOO_SOCKET_IFNAME", "lo", 0);
    ts_store store;
    ts_process_group group;
    ts_reducer reducer;
    CALL(ts_tcp_store_create(&store, "127.0.0.1", 0, 1, 1, 0, 30000, 0));
    CALL(ts_process_group_create(&group, store, 0, 1, "gloo", 30000));
    ts_tensor params[2] = {w1, w2};
    int64_t buckets = 0;
    // As DistributedDataParallel's defaults: 25 MiB buckets, 1 MiB first bucket, no unused-parameter search.
    CALL(ts_reducer_create(&reducer, params, 2, group, 25 << 20, 1 << 20, 0, 0, &buckets));
    check(buckets == 1, "DDP Reducer built (one bucket)");
    for (int step = 0; step < 2; step++) {
      uint8_t rebuilt = 0;
      CALL(ts_reducer_rebuild_buckets(reducer, &rebuilt));
      if (step == 1) check(rebuilt == 1, "DDP Reducer rebuilt its buckets after step 1");
      CALL(ts_reducer_prepare_for_forward(reducer));
      CALL(atg_dot(&l1, w1, x));
      CALL(atg_dot(&l2, w2, y));
      ts_scalar one = {1.0, 0, 0};
      CALL(atg_add_Tensor(&loss, l1, l2, one));
      CALL(ts_reducer_prepare_for_backward(reducer, &loss, 1));
      CALL(ts_backward(&loss, 1, &none, 0, 0));
      ts_tensor_free(loss);
      ts_tensor_free(l1);
      ts_tensor_free(l2);
    }
    int64_t after = 0;
    CALL(ts_reducer_bucket_count(reducer, &after));
    check(after == 1, "DDP Reducer: one bucket after the rebuild");
    float g2[2] = {0};
    CALL(ts_tensor_grad(&g, w2));
    CALL(read_vec(g, g2, 2));
    // .grad accumulates over the two steps (2 y); the Reducer writes the all-reduced bucket (one rank: the same) back.
    check(g2[0] == 8 && g2[1] == 10, "DDP gradients all-reduced into .grad");
    ts_tensor_free(g);
    CALL(ts_reducer_free(reducer));
    ts_process_group_free(group);
    ts_store_free(store);
  }
  ts_tensor_free(w1);
  ts_tensor_free(w2);
  ts_tensor_free(x);
  ts_tensor_free(y);
  printf("smoke: %s\n", failures ? "FAILED" : "all checks passed");
  return failures ? 1 : 0;
}
