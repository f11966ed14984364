// c10d from Swift: PyTorch's own stores (TCPStore, PrefixStore), process groups (Gloo on the CPU, NCCL on
// CUDA), collectives, DDP's Reducer and the all-gather / reduce-scatter autograd function of sharded training.
// See Sources/CTorch/ctorch_distributed.h for the contract.
//
// The torch wheel ships c10d's headers but not gloo's: setup installs Debian's libgloo-dev for its headers
// only. Gloo types are only ever held by pointer here (never subclassed, never linked: the wheel's
// libtorch_cpu carries gloo itself). Without those headers the file builds without Gloo and says so.
#if __has_include(<gloo/config.h>)
#define USE_C10D_GLOO 1
#endif
// TS_NO_NCCL: a CUDA build without NCCL process groups (scripts/gpu-check's fallback when c10d's NCCL headers do not
// compile with the CUDA headers at hand).
#if defined(TS_WITH_CUDA) && !defined(TS_NO_NCCL) && __has_include(<nccl.h>)
#define USE_C10D_NCCL 1
#endif
#ifndef USE_DISTRIBUTED
#define USE_DISTRIBUTED 1
#endif

#include "../ctorch_internal.h"
#include "../../Sources/CTorch/ctorch_distributed.h"

#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

using StorePtr = c10::intrusive_ptr<c10d::Store>;
using GroupPtr = c10::intrusive_ptr<c10d::ProcessGroup>;

namespace {

StorePtr &unwrap_store(ts_store s) { return *reinterpret_cast<StorePtr *>(s); }

struct Group {
  GroupPtr pg;
  std::string backend;
  std::chrono::milliseconds timeout;
};
Group &unwrap_group(ts_process_group g) { return *reinterpret_cast<Group *>(g); }

// The op codes of ctorch_distributed.h, in torch.distributed.ReduceOp's order.
constexpr int32_t kSum = 0, kAvg = 1, kProduct = 2, kMin = 3, kMax = 4;

c10d::ReduceOp reduce_op(int32_t op) {
  switch (op) {
    case kSum: return c10d::ReduceOp::SUM;
    case kAvg: return c10d::ReduceOp::AVG;
    case kProduct: return c10d::ReduceOp::PRODUCT;
    case kMin: return c10d::ReduceOp::MIN;
    case kMax: return c10d::ReduceOp::MAX;
    default: TORCH_CHECK(false, "unknown reduce op ", op, " (expected 0 sum, 1 avg, 2 product, 3 min, 4 max)");
  }
}

// Gloo has no AVG (all-reduce refuses it, reduce-scatter silently sums: PyTorch issue 162338): TorchSwift
// reduces with SUM and divides, for floating-point tensors, as NCCL's AVG does.
bool avg_by_division(const Group &g, int32_t op) { return op == kAvg && g.backend != "nccl"; }

void divide(const at::Tensor &t, int size) {
  TORCH_CHECK(at::isFloatingType(t.scalar_type()) || at::isComplexType(t.scalar_type()),
              "ReduceOp.AVG needs floating-point tensors (got ", t.scalar_type(), ")");
  t.div_(size);
}

void wait(const Group &g, const c10::intrusive_ptr<c10d::Work> &work) { work->wait(g.timeout); }

std::vector<at::Tensor> tensors(const ts_tensor *p, int64_t n) { return ts::tensor_list(p, n); }

}  // namespace

extern "C" {

int ts_distributed_backends(uint8_t *gloo, uint8_t *nccl) {
  TS_TRY
#ifdef USE_C10D_GLOO
    *gloo = 1;
#else
    *gloo = 0;
#endif
#ifdef USE_C10D_NCCL
    *nccl = 1;
#else
    *nccl = 0;
#endif
  TS_CATCH
}

// ---- stores ----

int ts_tcp_store_create(ts_store *out, const char *host, int32_t port, int32_t world_size, uint8_t is_server,
                        uint8_t wait_workers, int64_t timeout_ms, uint8_t multi_tenant) {
  TS_TRY
    TORCH_CHECK(port >= 0 && port < 65536, "port ", port, " is out of range (0-65535)");
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<std::uint16_t>(port);
    opts.isServer = is_server != 0;
    if (world_size > 0) opts.numWorkers = static_cast<std::size_t>(world_size);
    opts.waitWorkers = wait_workers != 0;
    opts.timeout = std::chrono::milliseconds(timeout_ms);
    opts.multiTenant = multi_tenant != 0;
    auto store = c10::make_intrusive<c10d::TCPStore>(std::string(host), opts);
    *out = reinterpret_cast<ts_store>(new StorePtr(std::move(store)));
  TS_CATCH
}

int ts_tcp_store_port(ts_store s, int32_t *port) {
  TS_TRY
    auto *tcp = dynamic_cast<c10d::TCPStore *>(unwrap_store(s).get());
    TORCH_CHECK(tcp != nullptr, "not a TCPStore");
    *port = tcp->getPort();
  TS_CATCH
}

int ts_prefix_store_create(ts_store *out, const char *prefix, ts_store base) {
  TS_TRY
    auto store = c10::make_intrusive<c10d::PrefixStore>(std::string(prefix), unwrap_store(base));
    *out = reinterpret_cast<ts_store>(new StorePtr(std::move(store)));
  TS_CATCH
}

void ts_store_free(ts_store s) { delete reinterpret_cast<StorePtr *>(s); }

int ts_store_set_timeout(ts_store s, int64_t timeout_ms) {
  TS_TRY
    unwrap_store(s)->setTimeout(std::chrono::milliseconds(timeout_ms));
  TS_CATCH
}

int ts_store_set(ts_store s, const char *key, const uint8_t *data, int64_t n) {
  TS_TRY
    std::vector<uint8_t> value(data, data + n);
    unwrap_store(s)->set(std::string(key), value);
  TS_CATCH
}

int ts_store_get(ts_store s, const char *key, uint8_t **data, int64_t *n) {
  TS_TRY
    auto value = unwrap_store(s)->get(std::string(key));
    auto *p = static_cast<uint8_t *>(std::malloc(value.size() + 1));
    if (!p) throw std::bad_alloc();
    if (!value.empty()) std::memcpy(p, value.data(), value.size());
    *data = p;
    *n = static_cast<int64_t>(value.size());
  TS_CATCH
}

int ts_store_add(ts_store s, const char *key, int64_t delta, int64_t *out) {
  TS_TRY
    *out = unwrap_store(s)->add(std::string(key), delta);
  TS_CATCH
}

int ts_store_check(ts_store s, const char *key, uint8_t *out) {
  TS_TRY
    *out = unwrap_store(s)->check({std::string(key)}) ? 1 : 0;
  TS_CATCH
}

int ts_store_delete(ts_store s, const char *key, uint8_t *out) {
  TS_TRY
    *out = unwrap_store(s)->deleteKey(std::string(key)) ? 1 : 0;
  TS_CATCH
}

// ---- process groups ----

int ts_process_group_create(ts_process_group *out, ts_store store, int32_t rank, int32_t size, const char *backend,
                            int64_t timeout_ms) {
  TS_TRY
    std::string name(backend);
    TORCH_CHECK(size > 0, "world size must be positive (got ", size, ")");
    TORCH_CHECK(rank >= 0 && rank < size, "rank ", rank, " is outside the world of ", size, " processes (0..",
                size - 1, ")");
    auto timeout = std::chrono::milliseconds(timeout_ms);
    // As torch.distributed: the group's keys live under "<group>/<backend>/" in the rendezvous store.
    auto group_store = c10::make_intrusive<c10d::PrefixStore>("0/", unwrap_store(store));
    auto pg = c10::make_intrusive<c10d::ProcessGroup>(group_store, rank, size);
    if (name == "gloo") {
#ifdef USE_C10D_GLOO
      auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
      const char *ifname = std::getenv("GLOO_SOCKET_IFNAME");
      if (ifname && *ifname) {
        opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      } else {
        opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      auto backend_store = c10::make_intrusive<c10d::PrefixStore>("gloo/", group_store);
      auto gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(backend_store, rank, size, opts);
      pg->setDefaultBackend(c10d::ProcessGroup::BackendType::GLOO);
      pg->setBackend(c10::DeviceType::CPU, c10d::ProcessGroup::BackendType::GLOO, gloo);
      pg->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::GLOO, gloo);
#else
      TORCH_CHECK(false, "this TorchSwift was built without Gloo (gloo's headers were missing at build time: "
                         "install Debian's libgloo-dev and run make setup)");
#endif
    } else if (name == "nccl") {
#ifdef USE_C10D_NCCL
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = timeout;
      auto backend_store = c10::make_intrusive<c10d::PrefixStore>("nccl/", group_store);
      auto nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(backend_store, rank, size, opts);
      pg->setDefaultBackend(c10d::ProcessGroup::BackendType::NCCL);
      pg->setBackend(c10::DeviceType::CUDA, c10d::ProcessGroup::BackendType::NCCL, nccl);
#else
      TORCH_CHECK(false, "this TorchSwift was built without NCCL (needs a CUDA torch and nccl.h at build time)");
#endif
    } else {
      TORCH_CHECK(false, "unknown backend '", name, "' (expected gloo or nccl)");
    }
    *out = reinterpret_cast<ts_process_group>(new Group{pg, name, timeout});
  TS_CATCH
}

void ts_process_group_free(ts_process_group g) { delete reinterpret_cast<Group *>(g); }

extern "C++" {
namespace {
// All-reduce (plain or coalesced, `Options` picks which) of `ts` in place. AVG on a backend without it (Gloo) is
// a SUM divided by the world size afterwards, as torch.distributed documents.
template <typename Options, typename Start>
int allreduce_in_place(ts_process_group g, const ts_tensor *ts, int64_t n, int32_t op, Start start) {
  TS_TRY
    auto &group = unwrap_group(g);
    auto list = tensors(ts, n);
    const bool divide_after = avg_by_division(group, op);
    Options opts;
    opts.reduceOp = reduce_op(divide_after ? kSum : op);
    opts.timeout = group.timeout;
    wait(group, start(*group.pg, list, opts));
    if (divide_after) for (auto &t : list) divide(t, group.pg->getSize());
  TS_CATCH
}
}  // namespace
}  // extern "C++"

int ts_process_group_allreduce(ts_process_group g, const ts_tensor *ts, int64_t n, int32_t op) {
  return allreduce_in_place<c10d::AllreduceOptions>(
      g, ts, n, op, [](auto &pg, auto &list, const auto &opts) { return pg.allreduce(list, opts); });
}

int ts_process_group_allreduce_coalesced(ts_process_group g, const ts_tensor *ts, int64_t n, int32_t op) {
  return allreduce_in_place<c10d::AllreduceCoalescedOptions>(
      g, ts, n, op, [](auto &pg, auto &list, const auto &opts) { return pg.allreduce_coalesced(list, opts); });
}

int ts_process_group_broadcast(ts_process_group g, const ts_tensor *ts, int64_t n, int32_t root) {
  TS_TRY
    auto &group = unwrap_group(g);
    TORCH_CHECK(root >= 0 && root < group.pg->getSize(), "broadcast source rank ", root, " is outside the world of ",
                group.pg->getSize());
    auto list = tensors(ts, n);
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    opts.timeout = group.timeout;
    wait(group, group.pg->broadcast(list, opts));
  TS_CATCH
}

int ts_process_group_broadcast_coalesced(ts_process_group g, const ts_tensor *ts, int64_t n, int64_t buffer_bytes,
                                         int32_t root) {
  TS_TRY
    auto &group = unwrap_group(g);
    TORCH_CHECK(root >= 0 && root < group.pg->getSize(), "broadcast source rank ", root, " is outside the world of ",
                group.pg->getSize());
    auto list = tensors(ts, n);
    c10d::broadcast_coalesced(group.pg, list, static_cast<size_t>(buffer_bytes), root);
  TS_CATCH
}

int ts_process_group_allgather(ts_process_group g, const ts_tensor *outs, int64_t n, ts_tensor input) {
  TS_TRY
    auto &group = unwrap_group(g);
    TORCH_CHECK(n == group.pg->getSize(), "all_gather needs one output tensor per rank (", group.pg->getSize(),
                "), got ", n);
    std::vector<std::vector<at::Tensor>> out{tensors(outs, n)};
    std::vector<at::Tensor> in{ts::unwrap(input)};
    c10d::AllgatherOptions opts;
    opts.timeout = group.timeout;
    wait(group, group.pg->allgather(out, in, opts));
  TS_CATCH
}

int ts_process_group_allgather_into_tensor(ts_process_group g, ts_tensor output, ts_tensor input) {
  TS_TRY
    auto &group = unwrap_group(g);
    auto &out = ts::unwrap(output);
    auto &in = ts::unwrap(input);
    TORCH_CHECK(out.numel() == in.numel() * group.pg->getSize(), "all_gather_into_tensor: the output has ",
                out.numel(), " elements, expected world size × input = ", in.numel() * group.pg->getSize());
    c10d::AllgatherOptions opts;
    opts.timeout = group.timeout;
    wait(group, group.pg->_allgather_base(out, in, opts));
  TS_CATCH
}

int ts_process_group_reduce_scatter_tensor(ts_process_group g, ts_tensor output, ts_tensor input, int32_t op) {
  TS_TRY
    auto &group = unwrap_group(g);
    auto &out = ts::unwrap(output);
    auto &in = ts::unwrap(input);
    TORCH_CHECK(in.numel() == out.numel() * group.pg->getSize(), "reduce_scatter_tensor: the input has ", in.numel(),
                " elements, expected world size × output = ", out.numel() * group.pg->getSize());
    if (group.backend != "nccl" && op != kSum && op != kAvg) {
      // Gloo's reduce-scatter sums whatever the op (as its AVG, PyTorch issue 162338): reduce the whole input
      // with the op and keep this rank's chunk.
      auto full = in.contiguous().clone();
      c10d::AllreduceOptions all;
      all.reduceOp = reduce_op(op);
      all.timeout = group.timeout;
      std::vector<at::Tensor> list{full};
      wait(group, group.pg->allreduce(list, all));
      out.copy_(full.view({-1}).narrow(0, group.pg->getRank() * out.numel(), out.numel()).view(out.sizes()));
      return 0;
    }
    c10d::ReduceScatterOptions opts;
    opts.reduceOp = reduce_op(avg_by_division(group, op) ? kSum : op);
    opts.timeout = group.timeout;
    wait(group, group.pg->_reduce_scatter_base(out, in, opts));
    if (avg_by_division(group, op)) divide(out, group.pg->getSize());
  TS_CATCH
}

int ts_process_group_barrier(ts_process_group g) {
  TS_TRY
    auto &group = unwrap_group(g);
    c10d::BarrierOptions opts;
    opts.timeout = group.timeout;
    wait(group, group.pg->barrier(opts));
  TS_CATCH
}

// ---- DistributedDataParallel's Reducer ----

struct ReducerBox {
  std::shared_ptr<c10d::Reducer> reducer;
};

int ts_reducer_create(ts_reducer *out, const ts_tensor *params, int64_t n, ts_process_group g, int64_t bucket_bytes,
                      int64_t first_bucket_bytes, uint8_t find_unused, uint8_t gradient_as_bucket_view,
                      int64_t *bucket_count) {
  TS_TRY
    auto &group = unwrap_group(g);
    auto list = tensors(params, n);
    TORCH_CHECK(!list.empty(), "DistributedDataParallel: the module has no parameters that require gradients");
    // As torch.nn.parallel.DistributedDataParallel: one bucket for the first iteration unless unused parameters
    // are searched (the Reducer rebuilds buckets of [first, cap] bytes in the order gradients arrived), reversed
    // so that the last parameters' gradients, ready first in backward, fill the first bucket.
    std::vector<size_t> limits;
    if (!find_unused) {
      limits = {std::numeric_limits<size_t>::max()};
    } else {
      limits = {static_cast<size_t>(first_bucket_bytes), static_cast<size_t>(bucket_bytes)};
    }
    std::vector<bool> sparse(list.size(), false);
    // Python's DDP passes the per-bucket limits it returns to its Reducer binding's per_bucket_size_limits, never
    // to the C++ constructor's bucket_bytes_cap_list (below).
    auto [buckets, per_bucket_limits] = c10d::compute_bucket_assignment_by_size(list, limits, sparse);
    (void)per_bucket_limits;
    std::reverse(buckets.begin(), buckets.end());
    *bucket_count = static_cast<int64_t>(buckets.size());
    auto reducer = std::make_shared<c10d::Reducer>(list, buckets, group.pg, sparse, bucket_bytes, find_unused != 0,
                                                   gradient_as_bucket_view != 0,
                                                   std::unordered_map<size_t, std::string>{}, first_bucket_bytes,
                                                   /*skip_all_reduce_unused_params=*/false,
                                                   /*use_python_reducer=*/false
#if TS_TORCH_AT_LEAST(2, 11)
                                                   // torch 2.11's bucket_bytes_cap_list: the caps rebuild_buckets()
                                                   // uses for the rebuilt buckets, in order (the last repeats), in
                                                   // place of {first_bucket_bytes, bucket_bytes}. Python's DDP passes
                                                   // it only for a user's bucket_cap_mb_list, else an empty list,
                                                   // which keeps the first/cap rebuild of torch 2.8-2.10. The limits
                                                   // of the first assignment above would be wrong here: {max} without
                                                   // find_unused would rebuild everything into one bucket.
                                                   ,
                                                   /*bucket_bytes_cap_list=*/std::vector<int64_t>{}
#endif
    );
    *out = reinterpret_cast<ts_reducer>(new ReducerBox{std::move(reducer)});
  TS_CATCH
}

int ts_reducer_free(ts_reducer r) {
  TS_TRY
    delete reinterpret_cast<ReducerBox *>(r);
  TS_CATCH
}

int ts_reducer_prepare_for_forward(ts_reducer r) {
  TS_TRY
    reinterpret_cast<ReducerBox *>(r)->reducer->prepare_for_forward();
  TS_CATCH
}

int ts_reducer_rebuild_buckets(ts_reducer r, uint8_t *rebuilt) {
  TS_TRY
    *rebuilt = reinterpret_cast<ReducerBox *>(r)->reducer->rebuild_buckets() ? 1 : 0;
  TS_CATCH
}

int ts_reducer_prepare_for_backward(ts_reducer r, const ts_tensor *outputs, int64_t n) {
  TS_TRY
    reinterpret_cast<ReducerBox *>(r)->reducer->prepare_for_backward(tensors(outputs, n));
  TS_CATCH
}

int ts_reducer_bucket_count(ts_reducer r, int64_t *out) {
  TS_TRY
    *out = static_cast<int64_t>(reinterpret_cast<ReducerBox *>(r)->reducer->get_grad_buckets(false).size());
  TS_CATCH
}

}  // extern "C"

// ---- sharded parameters: all-gather forward, reduce-scatter backward ----
namespace {

// One FSDP unit's parameters: each rank holds, per parameter, a flat shard of `chunk` elements (the flattened
// parameter padded with zeros to world × chunk, rank r's chunk at offset r × chunk), as FSDP2's per-parameter
// dim-0 sharding does for flat parameters. Forward all-gathers the unit's shards in one collective (ranks
// side by side: [world, Σ chunk]) and copies each full parameter out; backward copies the full gradients in,
// reduce-scatters them in one collective and divides by the world size (gradient averaging, as DDP).
struct Unshard : public torch::autograd::Function<Unshard> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext *ctx, at::TensorList shards,
                                                int64_t group_address, std::vector<int64_t> numels,
                                                std::vector<int64_t> chunks, std::vector<int64_t> flat_shapes,
                                                std::vector<int64_t> ndims) {
    auto &group = *reinterpret_cast<Group *>(group_address);
    const int64_t world = group.pg->getSize();
    int64_t total = 0;
    for (auto c : chunks) total += c;
    std::vector<at::Tensor> flat;
    flat.reserve(shards.size());
    for (const auto &s : shards) flat.push_back(s.detach().reshape({-1}));
    auto local = at::cat(flat);
    auto gathered = at::empty({world * total}, local.options());
    c10d::AllgatherOptions opts;
    opts.timeout = group.timeout;
    group.pg->_allgather_base(gathered, local, opts)->wait(group.timeout);
    auto grid = gathered.view({world, total});
    torch::autograd::variable_list out;
    int64_t offset = 0, shape_at = 0;
    for (size_t i = 0; i < shards.size(); i++) {
      std::vector<int64_t> shape(flat_shapes.begin() + shape_at, flat_shapes.begin() + shape_at + ndims[i]);
      shape_at += ndims[i];
      auto full = grid.narrow(1, offset, chunks[i]).reshape({-1}).narrow(0, 0, numels[i]).reshape(shape).clone();
      out.push_back(full);
      offset += chunks[i];
    }
    ctx->saved_data["group"] = group_address;
    ctx->saved_data["numels"] = numels;
    ctx->saved_data["chunks"] = chunks;
    ctx->saved_data["total"] = total;
    ctx->saved_data["inputs"] = static_cast<int64_t>(shards.size());
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    auto &group = *reinterpret_cast<Group *>(ctx->saved_data["group"].toInt());
    auto numels = ctx->saved_data["numels"].toIntVector();
    auto chunks = ctx->saved_data["chunks"].toIntVector();
    const int64_t total = ctx->saved_data["total"].toInt();
    const int64_t world = group.pg->getSize();
    at::TensorOptions options;
    for (auto &g : grads) if (g.defined()) { options = g.options(); break; }
    auto grid = at::zeros({world, total}, options);
    int64_t offset = 0;
    for (size_t i = 0; i < grads.size(); i++) {
      if (grads[i].defined()) {
        auto flat = at::zeros({world * chunks[i]}, options);
        flat.narrow(0, 0, numels[i]).copy_(grads[i].reshape({-1}));
        grid.narrow(1, offset, chunks[i]).copy_(flat.view({world, chunks[i]}));
      }
      offset += chunks[i];
    }
    auto reduced = at::empty({total}, options);
    c10d::ReduceScatterOptions opts;
    opts.reduceOp = c10d::ReduceOp::SUM;
    opts.timeout = group.timeout;
    auto input = grid.view({-1});
    group.pg->_reduce_scatter_base(reduced, input, opts)->wait(group.timeout);
    reduced.div_(world);
    torch::autograd::variable_list out;
    offset = 0;
    for (size_t i = 0; i < chunks.size(); i++) {
      out.push_back(reduced.narrow(0, offset, chunks[i]));
      offset += chunks[i];
    }
    for (int k = 0; k < 5; k++) out.push_back(at::Tensor());  // group, numels, chunks, shapes, ndims
    return out;
  }
};

}  // namespace

extern "C" {

int ts_fsdp_unshard(ts_tensor *out, const ts_tensor *shards, int64_t n, ts_process_group g, const int64_t *numels,
                    const int64_t *shapes, const int64_t *ndims) {
  TS_TRY
    auto &group = unwrap_group(g);
    const int64_t world = group.pg->getSize();
    auto list = tensors(shards, n);
    std::vector<int64_t> numel_v(numels, numels + n), ndim_v(ndims, ndims + n), chunk_v;
    int64_t shape_len = 0;
    for (int64_t i = 0; i < n; i++) {
      TORCH_CHECK(list[i].dim() == 1, "shard ", i, " must be flat");
      TORCH_CHECK(list[i].numel() * world >= numel_v[i], "shard ", i, " of ", list[i].numel(),
                  " elements is too small for a parameter of ", numel_v[i], " at world size ", world);
      chunk_v.push_back(list[i].numel());
      shape_len += ndim_v[i];
    }
    std::vector<int64_t> shape_v(shapes, shapes + shape_len);
    auto full = Unshard::apply(at::TensorList(list), reinterpret_cast<int64_t>(&group), numel_v, chunk_v, shape_v,
                               ndim_v);
    for (int64_t i = 0; i < n; i++) out[i] = ts::wrap(full[i]);
  TS_CATCH
}

/// Points `dst`'s handle at `src` (the same at::Tensor: identity, autograd history): how a sharded module's
/// parameter slot takes the gathered tensor for one forward and an empty placeholder after it.
int ts_tensor_rebind(ts_tensor dst, ts_tensor src) {
  TS_TRY
    ts::unwrap(dst) = ts::unwrap(src);
  TS_CATCH
}

/// torch.randperm(n, generator=torch.Generator().manual_seed(seed)): DistributedSampler's shuffle.
int ts_randperm_seeded(ts_tensor *out, int64_t n, uint64_t seed) {
  TS_TRY
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    *out = ts::wrap(at::randperm(n, gen, at::TensorOptions().dtype(at::kLong)));
  TS_CATCH
}

}  // extern "C"
