// Entry point of causal GQA attention with a KV cache: argument checks, routing.
#include "../common.h"
#include "../kernels.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

using namespace mamba4j;

// host: slots and start_pos are host memory (CPU context) and are checked here; a CUDA
// context's are device memory and are not read (the caller owns those bounds there).
static void check(const mamba4j_attention_args& a, bool host) {
    require_positive(a.batch, "batch");
    require_positive(a.seqlen, "seqlen");
    require_positive(a.q_heads, "q_heads");
    require_positive(a.kv_heads, "kv_heads");
    require_positive(a.head_dim, "head_dim");
    require_positive(a.capacity, "capacity");
    require_positive(a.slot_count, "slot_count");
    if (a.q_heads % a.kv_heads != 0)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "q_heads %lld is not a multiple of kv_heads %lld", (long long)a.q_heads,
             (long long)a.kv_heads);
    require_dtype(a.dtype, "dtype");
    require_ptr(a.q, "q");
    require_ptr(a.k, "k");
    require_ptr(a.v, "v");
    require_ptr(a.k_cache, "k_cache");
    require_ptr(a.v_cache, "v_cache");
    require_ptr(a.out, "out");
    require_rows("q", a.batch, a.seqlen, checked_mul(a.q_heads, a.head_dim, "q extent"), a.q_stride_b, a.q_stride_t);
    require_rows("kv", a.batch, a.seqlen, checked_mul(a.kv_heads, a.head_dim, "kv extent"), a.kv_stride_b, a.kv_stride_t);
    require_rows("out", a.batch, a.seqlen, checked_mul(a.q_heads, a.head_dim, "out extent"), a.out_stride_b, a.out_stride_t);
    checked_mul(checked_mul(a.slot_count, a.capacity, "cache extent"), checked_mul(a.kv_heads, a.head_dim, "cache extent"),
                "cache extent");
    if (a.slots != nullptr && host) {
        std::vector<std::pair<int32_t, int64_t>> seen;
        for (int64_t b = 0; b < a.batch; b++) {
            if (a.slots[b] < 0 || a.slots[b] >= a.slot_count)
                fail(MAMBA4J_ERR_INVALID_ARGUMENT, "slots[%lld] = %d is outside [0, slot_count %lld) (row %lld)",
                     (long long)b, (int)a.slots[b], (long long)a.slot_count, (long long)b);
            seen.emplace_back(a.slots[b], b);
        }
        std::sort(seen.begin(), seen.end());
        for (size_t i = 1; i < seen.size(); i++)
            if (seen[i].first == seen[i - 1].first)
                fail(MAMBA4J_ERR_INVALID_ARGUMENT, "rows %lld and %lld both use slot %d", (long long)seen[i - 1].second,
                     (long long)seen[i].second, (int)seen[i].first);
    } else if (a.slots == nullptr && a.batch > a.slot_count) {
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "slots is NULL (row b uses slot b) but batch %lld > slot_count %lld",
             (long long)a.batch, (long long)a.slot_count);
    }
    for (int64_t b = 0; host && b < a.batch; b++) {
        const int64_t start = a.start_pos ? a.start_pos[b] : 0;
        if (start < 0)
            fail(MAMBA4J_ERR_INVALID_ARGUMENT, "start_pos[%lld] must be >= 0, got %lld (row %lld)", (long long)b,
                 (long long)start, (long long)b);
        if (start + a.seqlen > a.capacity)
            fail(MAMBA4J_ERR_INVALID_ARGUMENT,
                 "row %lld: start_pos[%lld] + seqlen = %lld + %lld exceeds the cache capacity %lld", (long long)b,
                 (long long)b, (long long)start, (long long)a.seqlen, (long long)a.capacity);
    }
    if (!std::isfinite(a.scale))
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "scale must be finite (<= 0 for 1/sqrt(head_dim)), got %g", double(a.scale));
    if (a.algo != MAMBA4J_ALGO_AUTO && a.algo != MAMBA4J_ALGO_REFERENCE && a.algo != MAMBA4J_ALGO_FLASH)
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "algo %d is not AUTO, REFERENCE or FLASH", (int)a.algo);
}

extern "C" mamba4j_status mamba4j_attention(mamba4j_context* ctx, const mamba4j_attention_args* args) {
    return guarded("mamba4j_attention", [&] {
        require_context(ctx);
        require_ptr(args, "args");
        check(*args, ctx->backend == MAMBA4J_BACKEND_CPU);
        route<mamba4j_attention>("mamba4j_attention", ctx, *args,
            cpu::attention, MAMBA4J_CUDA_KERNEL(attention));
    });
}
