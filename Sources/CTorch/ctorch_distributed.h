// TorchSwift's C ABI over c10d (csrc/core/distributed.cpp): PyTorch's stores, process groups, collectives,
// DDP's Reducer and sharded parameters. Same conventions as ctorch.h: 0 on success, 1 on error with the
// message in ts_last_error(); no C++ exception crosses this boundary.
#pragma once
#include "ctorch.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ts_store_opaque *ts_store;
typedef struct ts_process_group_opaque *ts_process_group;
typedef struct ts_reducer_opaque *ts_reducer;

/// Which backends this build carries (1 = yes).
int ts_distributed_backends(uint8_t *gloo, uint8_t *nccl);

// ---- stores ----
/// c10d::TCPStore: a server (is_server) or a client of host:port. world_size <= 0: unknown.
int ts_tcp_store_create(ts_store *out, const char *host, int32_t port, int32_t world_size, uint8_t is_server,
                        uint8_t wait_workers, int64_t timeout_ms, uint8_t multi_tenant);
int ts_tcp_store_port(ts_store s, int32_t *port);
/// c10d::PrefixStore: every key of `base` prefixed with "<prefix>/".
int ts_prefix_store_create(ts_store *out, const char *prefix, ts_store base);
void ts_store_free(ts_store s);
int ts_store_set_timeout(ts_store s, int64_t timeout_ms);
int ts_store_set(ts_store s, const char *key, const uint8_t *data, int64_t n);
/// Waits (up to the store's timeout) for the key; the value is malloc'd (free with ts_free).
int ts_store_get(ts_store s, const char *key, uint8_t **data, int64_t *n);
int ts_store_add(ts_store s, const char *key, int64_t delta, int64_t *out);
int ts_store_check(ts_store s, const char *key, uint8_t *out);
int ts_store_delete(ts_store s, const char *key, uint8_t *out);

// ---- process groups and collectives (synchronous: each waits for its work, up to the group's timeout) ----
/// backend: "gloo" or "nccl". Reduce ops: 0 sum, 1 avg, 2 product, 3 min, 4 max.
int ts_process_group_create(ts_process_group *out, ts_store store, int32_t rank, int32_t size, const char *backend,
                            int64_t timeout_ms);
void ts_process_group_free(ts_process_group g);
int ts_process_group_allreduce(ts_process_group g, const ts_tensor *ts, int64_t n, int32_t op);
int ts_process_group_allreduce_coalesced(ts_process_group g, const ts_tensor *ts, int64_t n, int32_t op);
int ts_process_group_broadcast(ts_process_group g, const ts_tensor *ts, int64_t n, int32_t root);
int ts_process_group_broadcast_coalesced(ts_process_group g, const ts_tensor *ts, int64_t n, int64_t buffer_bytes,
                                         int32_t root);
int ts_process_group_allgather(ts_process_group g, const ts_tensor *outs, int64_t n, ts_tensor input);
int ts_process_group_allgather_into_tensor(ts_process_group g, ts_tensor output, ts_tensor input);
int ts_process_group_reduce_scatter_tensor(ts_process_group g, ts_tensor output, ts_tensor input, int32_t op);
int ts_process_group_barrier(ts_process_group g);

// ---- DistributedDataParallel's c10d::Reducer ----
int ts_reducer_create(ts_reducer *out, const ts_tensor *params, int64_t n, ts_process_group g, int64_t bucket_bytes,
                      int64_t first_bucket_bytes, uint8_t find_unused, uint8_t gradient_as_bucket_view,
                      int64_t *bucket_count);
int ts_reducer_free(ts_reducer r);
int ts_reducer_prepare_for_forward(ts_reducer r);
int ts_reducer_rebuild_buckets(ts_reducer r, uint8_t *rebuilt);
int ts_reducer_prepare_for_backward(ts_reducer r, const ts_tensor *outputs, int64_t n);
int ts_reducer_bucket_count(ts_reducer r, int64_t *out);

// ---- sharded parameters ----
/// All-gathers one unit's flat shards into full parameters (autograd: reduce-scatter of the gradients,
/// averaged). shapes: the parameters' shapes concatenated; ndims: each one's rank. Writes n tensors.
int ts_fsdp_unshard(ts_tensor *out, const ts_tensor *shards, int64_t n, ts_process_group g, const int64_t *numels,
                    const int64_t *shapes, const int64_t *ndims);
/// Points dst's handle at src's tensor (identity and autograd history).
int ts_tensor_rebind(ts_tensor dst, ts_tensor src);
/// torch.randperm(n, generator=torch.Generator().manual_seed(seed)).
int ts_randperm_seeded(ts_tensor *out, int64_t n, uint64_t seed);

#ifdef __cplusplus
}
#endif
