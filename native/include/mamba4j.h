/*
 * mamba4j.h — the one C ABI of libmamba4j, and the input of jextract.
 *
 * Conventions (every entry point follows them):
 *  - Each function returns a mamba4j_status; MAMBA4J_OK is 0. On any other value,
 *    mamba4j_last_error() returns a message for the calling thread, valid until the
 *    thread's next call into the library. No C++ exception crosses this boundary and
 *    nothing aborts the process.
 *  - Kernels run on a context (CPU, or one CUDA device and its stream). Pointers are host
 *    memory for a CPU context and device memory for a CUDA context (mamba4j_malloc).
 *    CUDA kernels are asynchronous on the context's stream; mamba4j_synchronize waits.
 *  - Sizes are int64_t and must be > 0 unless stated; strides are in elements, not bytes.
 *    Tensors are row-major; the innermost dimension is always contiguous and only the
 *    outer dimensions carry explicit strides (so a tensor may be a column slice of a
 *    wider one, such as xBC inside the in_proj output).
 *  - Recurrent states (conv state, SSM state) are always fp32, whatever the dtype.
 *  - Each kernel has an `algo` field: MAMBA4J_ALGO_AUTO picks the fast path,
 *    MAMBA4J_ALGO_REFERENCE runs the plain reference (the math of DESIGN.md §3 line by
 *    line), others force one implementation (for tests and benchmarks).
 *
 * Shapes in comments: B batch rows, L tokens in this call, D width, E inner width,
 * N state size, H heads, P head dim, G groups, K conv width, T cache capacity.
 */
#ifndef MAMBA4J_H
#define MAMBA4J_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define MAMBA4J_API __declspec(dllexport)
#else
#define MAMBA4J_API __attribute__((visibility("default")))
#endif

#define MAMBA4J_ABI_VERSION 1

/* ---------------------------------------------------------------- status, types */

typedef int32_t mamba4j_status;
enum {
    MAMBA4J_OK = 0,
    MAMBA4J_ERR_INVALID_ARGUMENT = 1, /* null pointer, bad size, overflow, bad enum value */
    MAMBA4J_ERR_UNSUPPORTED = 2,      /* valid request this build or backend cannot do */
    MAMBA4J_ERR_OUT_OF_MEMORY = 3,
    MAMBA4J_ERR_CUDA = 4,             /* a CUDA runtime or cuBLAS call failed */
    MAMBA4J_ERR_INTERNAL = 5          /* a bug: please report the message */
};

typedef int32_t mamba4j_dtype;
enum { MAMBA4J_F32 = 0, MAMBA4J_BF16 = 1, MAMBA4J_F16 = 2 };

typedef int32_t mamba4j_backend;
enum { MAMBA4J_BACKEND_CPU = 0, MAMBA4J_BACKEND_CUDA = 1 };

typedef int32_t mamba4j_simd;
enum { MAMBA4J_SIMD_SCALAR = 0, MAMBA4J_SIMD_AVX2 = 1, MAMBA4J_SIMD_AVX512 = 2 };

typedef int32_t mamba4j_algo;
enum {
    MAMBA4J_ALGO_AUTO = 0,
    MAMBA4J_ALGO_REFERENCE = 1, /* plain scalar loops, fp32 math (fp64 where stated) */
    MAMBA4J_ALGO_RECURRENT = 2, /* scans: the token-by-token recurrence, optimized */
    MAMBA4J_ALGO_CHUNKED = 3,   /* SSD: the chunked (matrix) algorithm */
    MAMBA4J_ALGO_FLASH = 4      /* attention: tiled, online softmax, no L×L matrix */
};

/* ---------------------------------------------------------------- library */

/* "major.minor.patch" of this build. Never null. */
MAMBA4J_API const char* mamba4j_version(void);
/* MAMBA4J_ABI_VERSION of the built library: bindings check it when they load. */
MAMBA4J_API int32_t mamba4j_abi_version(void);
/* Message of the last failed call on this thread ("" if none). Never null. */
MAMBA4J_API const char* mamba4j_last_error(void);
/* 1 if the backend is compiled into this library, else 0. */
MAMBA4J_API int32_t mamba4j_has_backend(mamba4j_backend backend);
/* Widest SIMD level this CPU supports and the level in use (highest supported unless
   lowered by mamba4j_cpu_set_simd or the MAMBA4J_SIMD environment variable:
   scalar|avx2|avx512). */
MAMBA4J_API mamba4j_status mamba4j_cpu_simd(mamba4j_simd* supported, mamba4j_simd* in_use);
/* Lowers (or restores) the SIMD level: fails with UNSUPPORTED above what the CPU has. */
MAMBA4J_API mamba4j_status mamba4j_cpu_set_simd(mamba4j_simd level);
/* Worker threads for CPU kernels (default: the number of cores). */
MAMBA4J_API mamba4j_status mamba4j_cpu_set_threads(int32_t threads);
MAMBA4J_API mamba4j_status mamba4j_cpu_threads(int32_t* threads);
/* CUDA devices the runtime sees (0 without a driver or without the CUDA backend). */
MAMBA4J_API mamba4j_status mamba4j_cuda_device_count(int32_t* count);
/* Name and compute capability of a CUDA device; name is written NUL-terminated. */
MAMBA4J_API mamba4j_status mamba4j_cuda_device_info(int32_t device, char* name, int64_t name_capacity,
                                                  int32_t* cc_major, int32_t* cc_minor, int64_t* total_bytes);

/* ---------------------------------------------------------------- contexts, memory */

typedef struct mamba4j_context mamba4j_context;

/* A CPU context (device ignored) or a CUDA context on `device` with its own stream and
   cuBLAS handle. */
MAMBA4J_API mamba4j_status mamba4j_context_create(mamba4j_backend backend, int32_t device, mamba4j_context** out);
MAMBA4J_API mamba4j_status mamba4j_context_destroy(mamba4j_context* ctx);
MAMBA4J_API mamba4j_status mamba4j_context_backend(const mamba4j_context* ctx, mamba4j_backend* backend);
MAMBA4J_API mamba4j_status mamba4j_synchronize(mamba4j_context* ctx);

/* Memory of the context's backend (64-byte aligned host memory for CPU). */
MAMBA4J_API mamba4j_status mamba4j_malloc(mamba4j_context* ctx, int64_t bytes, void** out);
MAMBA4J_API mamba4j_status mamba4j_free(mamba4j_context* ctx, void* ptr);

typedef int32_t mamba4j_copy_kind;
enum {
    MAMBA4J_COPY_HOST_TO_DEVICE = 0,
    MAMBA4J_COPY_DEVICE_TO_HOST = 1,
    MAMBA4J_COPY_DEVICE_TO_DEVICE = 2
};
/* Copies on the context's stream (synchronous for host destinations). "Device" is
   host memory for a CPU context. */
MAMBA4J_API mamba4j_status mamba4j_memcpy(mamba4j_context* ctx, void* dst, const void* src, int64_t bytes,
                                         mamba4j_copy_kind kind);

/* Device events for timing on a context's stream (CPU contexts: wall clock). */
typedef struct mamba4j_event mamba4j_event;
MAMBA4J_API mamba4j_status mamba4j_event_create(mamba4j_context* ctx, mamba4j_event** out);
MAMBA4J_API mamba4j_status mamba4j_event_destroy(mamba4j_event* event);
MAMBA4J_API mamba4j_status mamba4j_event_record(mamba4j_context* ctx, mamba4j_event* event);
/* Milliseconds between two recorded events; waits for `end`. */
MAMBA4J_API mamba4j_status mamba4j_event_elapsed_ms(mamba4j_event* start, mamba4j_event* end, float* ms);

/* ---------------------------------------------------------------- norms */

/* RMSNorm over the last dim, optionally after a fused residual add.
 *   residual == NULL: y[r,:] = x[r,:] / sqrt(mean(x[r,:]²) + eps) · w
 *   residual != NULL: residual[r,:] += x[r,:]   (fp32, in place)
 *                     y[r,:] = residual[r,:] / sqrt(mean(residual[r,:]²) + eps) · w
 * x [rows, dim] (dtype), y [rows, dim] (dtype; may alias x), w [dim] (weight_dtype),
 * residual [rows, dim] fp32. */
typedef struct mamba4j_rmsnorm_args {
    int64_t rows, dim;
    mamba4j_dtype dtype, weight_dtype;
    const void* x; int64_t x_stride;
    const void* w;
    float* residual; int64_t residual_stride;
    void* y; int64_t y_stride;
    float eps;
    mamba4j_algo algo;
} mamba4j_rmsnorm_args;
MAMBA4J_API mamba4j_status mamba4j_rmsnorm(mamba4j_context* ctx, const mamba4j_rmsnorm_args* args);

/* Gated RMSNorm of Mamba-2, normalised per group of group_size channels:
 *   norm_before_gate == 0:  y = rmsnorm_g(x ⊙ silu(z)) · w      (mamba_ssm, Nemotron-H)
 *   norm_before_gate == 1:  y = rmsnorm_g(x) · w ⊙ silu(z)
 * x, z, y [rows, dim] (dtype), w [dim] (weight_dtype); dim % group_size == 0.
 * group_size == dim gives HF Mamba2's norm over all of E. z == NULL: no gate. */
typedef struct mamba4j_gated_rmsnorm_args {
    int64_t rows, dim, group_size;
    mamba4j_dtype dtype, weight_dtype;
    const void* x; int64_t x_stride;
    const void* z; int64_t z_stride;
    const void* w;
    void* y; int64_t y_stride;
    float eps;
    int32_t norm_before_gate;
    mamba4j_algo algo;
} mamba4j_gated_rmsnorm_args;
MAMBA4J_API mamba4j_status mamba4j_gated_rmsnorm(mamba4j_context* ctx, const mamba4j_gated_rmsnorm_args* args);

/* ---------------------------------------------------------------- conv1d */

/* Causal depthwise conv1d over channels, width K, then optional SiLU:
 *   y[b,t,c] = act(bias[c] + Σ_{k<K} w[c,k] · x̃[b, t-K+1+k, c])
 * where x̃ before t = 0 comes from conv_state (the last K-1 inputs of the previous call).
 * x [B, L, C] (dtype, strides x_stride_b, x_stride_t), w [C, K] (weight_dtype),
 * bias [C] or NULL, y [B, L, C].
 * conv_state [slots, K-1, C] fp32, read then overwritten with the last K-1 inputs
 * (including older state when L < K-1); NULL means zeros and nothing returned.
 * state_slots [B] picks the state row of each batch row (NULL: row b uses slot b); the
 * slots must be distinct and >= 0 (checked), and inside the state tensor (the caller's
 * bound: the slot count is not an argument). L == 1 is the decode step.
 * CPU: dtype F32 (weight_dtype F32 or BF16); ALGO_REFERENCE also takes BF16/F16. */
typedef struct mamba4j_conv1d_args {
    int64_t batch, seqlen, channels, width;
    mamba4j_dtype dtype, weight_dtype;
    const void* x; int64_t x_stride_b, x_stride_t;
    const void* w;
    const void* bias;
    float* conv_state;
    const int32_t* state_slots;
    void* y; int64_t y_stride_b, y_stride_t;
    int32_t silu;
    mamba4j_algo algo;
} mamba4j_conv1d_args;
MAMBA4J_API mamba4j_status mamba4j_conv1d(mamba4j_context* ctx, const mamba4j_conv1d_args* args);

/* ---------------------------------------------------------------- Mamba-1 selective scan */

/* Fused selective scan (per channel e < E, state n < N):
 *   Δ = softplus(dt[b,t,e] + dt_bias[e])            (dt_softplus != 0; else dt + dt_bias)
 *   A = -exp(A_log[e,n])
 *   h[e,n] = exp(Δ·A) · h[e,n] + Δ · B[b,t,n] · u[b,t,e]
 *   y[b,t,e] = Σ_n C[b,t,n] · h[e,n] + D[e] · u[b,t,e]
 *   y *= silu(z[b,t,e])                              (z != NULL)
 * u, dt, z, y [B, L, E] (dtype); B, C [B, L, N] (dtype); dt_bias [E], A_log [E, N],
 * D [E] fp32 (dt_bias, D may be NULL). ssm_state [slots, E, N] fp32: initial state in,
 * final state out (NULL: zeros, not returned). state_slots as for conv1d.
 * algo: AUTO / RECURRENT (the fused scan), REFERENCE. CPU: dtype F32 (ALGO_REFERENCE also
 * takes BF16/F16). */
typedef struct mamba4j_selective_scan_args {
    int64_t batch, seqlen, inner, state;  /* B, L, E, N */
    mamba4j_dtype dtype;
    const void* u; int64_t u_stride_b, u_stride_t;
    const void* dt; int64_t dt_stride_b, dt_stride_t;
    const float* dt_bias;
    const float* A_log;
    const void* B; int64_t B_stride_b, B_stride_t;
    const void* C; int64_t C_stride_b, C_stride_t;
    const float* D;
    const void* z; int64_t z_stride_b, z_stride_t;
    float* ssm_state;
    const int32_t* state_slots;
    void* y; int64_t y_stride_b, y_stride_t;
    int32_t dt_softplus;
    mamba4j_algo algo;
} mamba4j_selective_scan_args;
MAMBA4J_API mamba4j_status mamba4j_selective_scan(mamba4j_context* ctx, const mamba4j_selective_scan_args* args);

/* ---------------------------------------------------------------- Mamba-2 SSD */

/* SSD, scalar decay per head h (group g = h / (H/G)):
 *   Δ = clamp(softplus(dt[b,t,h] + dt_bias[h]), dt_min, dt_max);  a = exp(Δ · -exp(A_log[h]))
 *   S[h] = a · S[h] + Δ · x[b,t,h,:] ⊗ B[b,t,g,:]                  (state [P, N])
 *   y[b,t,h,:] = S[h] · C[b,t,g,:] + D[h] · x[b,t,h,:]
 *   y *= silu(z[b,t,h,:])                                          (z != NULL)
 * x, z, y [B, L, H, P] (dtype; strides per batch and per token, heads contiguous);
 * dt [B, L, H]; B, C [B, L, G, N]; dt_bias, A_log, D [H] fp32 (dt_bias, D may be NULL).
 * dt_max <= 0 means no upper limit. ssm_state [slots, H, P, N] fp32: initial state in,
 * final state out (NULL: zeros, not returned). state_slots as for conv1d.
 * algo: AUTO (recurrent for short L, chunked otherwise), REFERENCE, RECURRENT, CHUNKED
 * (chunk_size tokens per chunk, 0 meaning 256; any L, including L % chunk_size != 0).
 * AUTO on the CPU may use smaller chunks than chunk_size (the same result up to rounding).
 * CPU: dtype F32 (ALGO_REFERENCE also takes BF16/F16). */
typedef struct mamba4j_ssd_args {
    int64_t batch, seqlen, heads, head_dim, groups, state; /* B, L, H, P, G, N */
    int64_t chunk_size;
    mamba4j_dtype dtype;
    const void* x; int64_t x_stride_b, x_stride_t;
    const void* dt; int64_t dt_stride_b, dt_stride_t;
    const float* dt_bias;
    const float* A_log;
    const void* B; int64_t B_stride_b, B_stride_t;
    const void* C; int64_t C_stride_b, C_stride_t;
    const float* D;
    const void* z; int64_t z_stride_b, z_stride_t;
    float dt_min, dt_max;
    float* ssm_state;
    const int32_t* state_slots;
    void* y; int64_t y_stride_b, y_stride_t;
    mamba4j_algo algo;
} mamba4j_ssd_args;
MAMBA4J_API mamba4j_status mamba4j_ssd(mamba4j_context* ctx, const mamba4j_ssd_args* args);

/* ---------------------------------------------------------------- attention */

/* Rotary position embedding, rotate-half form (Llama / Hugging Face), in place on
 * q [B, L, Hq, d] and k [B, L, Hkv, d] (k may be NULL, then kv_heads is ignored).
 * Position of token t of row b: p = start_pos[b] + t (start_pos NULL: t). Only the first
 * rotary_dim channels of each head rotate (partial rotary; rotary_dim even, <= d), as
 * pairs (i, i + rotary_dim/2) for i < rotary_dim/2:
 *   inv_freq[i] = theta^(-2i/rotary_dim), then llama3 scaling when llama3_factor > 0
 *   (transformers' "llama3" rope type: low/high_freq_factor, original_max_position);
 *   angle = p · inv_freq[i] (rounded to fp32, as transformers does);
 *   x'[i] = x[i]·cos − x[i+r/2]·sin,  x'[i+r/2] = x[i+r/2]·cos + x[i]·sin.
 * algo: AUTO (cos/sin once per position, heads in parallel) or REFERENCE. */
typedef struct mamba4j_rope_args {
    int64_t batch, seqlen, q_heads, kv_heads, head_dim, rotary_dim;
    mamba4j_dtype dtype;
    void* q; int64_t q_stride_b, q_stride_t;
    void* k; int64_t k_stride_b, k_stride_t;
    const int32_t* start_pos;
    float theta;
    float llama3_factor, llama3_low_freq_factor, llama3_high_freq_factor;
    int64_t llama3_original_max_position;
    mamba4j_algo algo;
} mamba4j_rope_args;
MAMBA4J_API mamba4j_status mamba4j_rope(mamba4j_context* ctx, const mamba4j_rope_args* args);

/* Causal grouped-query attention with a KV cache. For each row b the new keys and values
 * k, v [B, L, Hkv, d] are first written to the cache at positions
 * [start_pos[b], start_pos[b] + L) of slot slots[b]; then query t (absolute position
 * p = start_pos[b] + t) attends to cache positions 0..p:
 *   out[b,t,h,:] = Σ_j softmax_j(scale · q[b,t,h,:]·K[j,h/(Hq/Hkv),:]) · V[j,h/(Hq/Hkv),:]
 * q, out [B, L, Hq, d]; k_cache, v_cache [slot_count, T, Hkv, d] (dtype, contiguous);
 * slots [B] distinct, each < slot_count (NULL: row b uses slot b); start_pos [B] (NULL:
 * all 0); start_pos[b] + L <= T for every row. Cache positions below start_pos[b] must
 * hold that sequence's earlier keys and values. scale <= 0 means 1/sqrt(d).
 * L == 1 is decode; decode and short continuations split long caches over the keys.
 * algo: AUTO (= FLASH), REFERENCE (two passes over the full score row, in double),
 * FLASH (key tiles, online softmax, no L×L matrix). The CPU backend does F32 only. */
typedef struct mamba4j_attention_args {
    int64_t batch, seqlen, q_heads, kv_heads, head_dim, capacity; /* B, L, Hq, Hkv, d, T */
    int64_t slot_count;                                           /* cache rows */
    mamba4j_dtype dtype;
    const void* q; int64_t q_stride_b, q_stride_t;
    const void* k; const void* v; int64_t kv_stride_b, kv_stride_t;
    void* k_cache; void* v_cache;
    const int32_t* slots;
    const int32_t* start_pos;
    void* out; int64_t out_stride_b, out_stride_t;
    float scale;
    mamba4j_algo algo;
} mamba4j_attention_args;
MAMBA4J_API mamba4j_status mamba4j_attention(mamba4j_context* ctx, const mamba4j_attention_args* args);

/* ---------------------------------------------------------------- matmul, MLP, embedding */

/* y[m,:] (+)= x[m,:] · Wᵀ + bias   with W [n, k] in PyTorch order (out, in).
 * x [m, k] (dtype), y [m, n] (dtype), w (weight_dtype: F32 or BF16), bias [n] fp32 or
 * NULL. accumulate != 0 adds to y (a fused residual add). Accumulation in fp32.
 * m == 1 is the matvec of decode.
 * CPU precision: with BF16 weights and m > 1 (prefill) on the AVX-512 (BF16) level, x is
 * rounded to bf16 (nearest even) once per call and the products are bf16 · bf16 summed in
 * fp32 (vdpbf16ps, as PyTorch bf16 and llama.cpp do): NMSE ~3e-6 against exact fp32 x.
 * MAMBA4J_BF16_MATMUL=fp32 (read once per process) keeps x in fp32; other levels, F32
 * weights and ALGO_REFERENCE always do.
 * CUDA: cuBLAS, loaded at run time from $MAMBA4J_CUBLAS (libcublas.so.N or its folder) when
 * set, else from the library search path (libcublas.so.13, then .so.12); without it the call
 * fails with MAMBA4J_ERR_UNSUPPORTED saying what was tried. The product runs in weight_dtype:
 * x of another dtype is converted first (fp32 / f16 x with BF16 W: rounded to bf16).
 * algo REFERENCE (CPU and CUDA): plain fp64 sums, x never rounded, no cuBLAS; slow. */
typedef struct mamba4j_matmul_args {
    int64_t m, n, k;
    mamba4j_dtype dtype, weight_dtype;
    const void* x; int64_t x_stride;
    const void* w;
    const float* bias;
    void* y; int64_t y_stride;
    int32_t accumulate;
    mamba4j_algo algo;
} mamba4j_matmul_args;
MAMBA4J_API mamba4j_status mamba4j_matmul(mamba4j_context* ctx, const mamba4j_matmul_args* args);

typedef int32_t mamba4j_activation;
enum {
    MAMBA4J_ACT_SILU_GATE = 0, /* y = silu(gate) ⊙ up            (SwiGLU)      */
    MAMBA4J_ACT_RELU2 = 1,     /* y = relu(gate)²   (up unused)  (Nemotron-H)  */
    MAMBA4J_ACT_SILU = 2       /* y = silu(gate)    (up unused)               */
};
/* gate, up, y [rows, dim] (dtype); y may alias gate. */
typedef struct mamba4j_activation_args {
    int64_t rows, dim;
    mamba4j_dtype dtype;
    mamba4j_activation kind;
    const void* gate; int64_t gate_stride;
    const void* up; int64_t up_stride;
    void* y; int64_t y_stride;
    mamba4j_algo algo;
} mamba4j_activation_args;
MAMBA4J_API mamba4j_status mamba4j_activation_apply(mamba4j_context* ctx, const mamba4j_activation_args* args);

/* out[i,:] = table[ids[i],:] (converted to out_dtype); an id outside [0, vocab) is an
 * INVALID_ARGUMENT naming the position and the id. table [vocab, dim] (table_dtype). */
typedef struct mamba4j_embedding_args {
    int64_t count, vocab, dim;
    mamba4j_dtype table_dtype, out_dtype;
    const int32_t* ids;
    const void* table;
    void* out; int64_t out_stride;
} mamba4j_embedding_args;
MAMBA4J_API mamba4j_status mamba4j_embedding(mamba4j_context* ctx, const mamba4j_embedding_args* args);

/* ---------------------------------------------------------------- sampling */

/* Picks one token id per batch row from logits [batch, vocab] (dtype; row b at
 * logits + b·logits_stride): the filters of the runtime's Sampler, in its order (the
 * repetition penalty excepted: apply it to the logits first), then a draw with the
 * caller's uniform number, so results are reproducible. For row b with logits x:
 *   temperature <= 0: out_ids[b] = argmax x (the lowest id among equal maxima).
 *   otherwise:
 *     order o_0, o_1, … = the ids by x descending, equal logits by lower id first;
 *     w_i = exp((x_i − max x) / temperature)           (so w_{o_0} = 1)
 *     n = vocab;  top_k > 0:  n = min(top_k, vocab)
 *     top_p < 1:  n = the smallest m >= 1 with Σ_{j<m} w_{o_j} >= top_p · Σ_{j<n} w_{o_j}
 *     min_p > 0:  n = the number of j < n with w_{o_j} >= min_p
 *     kept K = {o_j : j < n},  S = Σ_{i∈K} w_i
 *     out_ids[b] = the first kept id i, in increasing id order, whose inclusive cumulative
 *                  weight Σ_{j∈K, j<=i} w_j exceeds u·S, u = uniforms[b] in [0, 1)
 *                  (the inverse CDF over the kept candidates in id order; rounding that
 *                  leaves none gives the last kept id).
 * So a given u picks the same id on every backend except where u·S or top_p's mass lies
 * within rounding of a cumulative weight: the CPU computes w and the sums in fp64; CUDA
 * computes w with fp32 exp and sums it in 2^-40 fixed point (exact, order independent).
 * Weights below 2^-40 (logit more than ~27.7·temperature under the max) count as 0 on
 * CUDA, so CUDA never picks them (the CPU does, with probability < 1e-12 per token).
 * Logits may be -inf (a masked token: weight 0). A row with a NaN logit, or when sampling
 * with +inf or no finite logit, is an INVALID_ARGUMENT naming the row on the CPU; on CUDA
 * (where the check would need a copy back) such a row gets out_ids[b] = -1.
 * top_k <= 0, top_p == 1, min_p <= 0 turn the filter off; top_p must be in (0, 1], min_p
 * <= 1, temperature finite. uniforms [batch] fp32 (unused, may be NULL, when greedy) and
 * out_ids [batch] int32 are memory of the context (device memory on CUDA); a uniform
 * outside [0, 1) is an INVALID_ARGUMENT on the CPU and clamped into [0, 1) on CUDA.
 * algo: AUTO or REFERENCE (CPU: the same code, a sort per row; CUDA: one block per row, no
 * sort, thresholds by bisection over the logits; AUTO first narrows the row to at most
 * 4096 candidates where it can, REFERENCE always visits the whole row). */
typedef struct mamba4j_sample_args {
    int64_t batch, vocab;
    mamba4j_dtype dtype;
    const void* logits; int64_t logits_stride;
    float temperature;
    int32_t top_k;
    float top_p, min_p;
    const float* uniforms;
    int32_t* out_ids;
    mamba4j_algo algo;
} mamba4j_sample_args;
MAMBA4J_API mamba4j_status mamba4j_sample(mamba4j_context* ctx, const mamba4j_sample_args* args);

/* ---------------------------------------------------------------- plans */

/* A plan: kernel calls recorded once and run again as one call, so a caller that repeats
 * the same calls (a decode step) crosses into the library once per step, not once per
 * kernel. Between mamba4j_plan_begin and mamba4j_plan_end, every kernel call on the context
 * (the functions that take an args struct) is checked as usual, then its args struct is
 * copied into the plan instead of running; a call that fails its checks returns its error
 * and is not recorded. mamba4j_plan_run makes the recorded calls again, in order, each
 * checked again: the memory their pointers name is read when the plan runs, so a caller
 * changes a step's inputs (token ids, positions, slots) by writing that memory, and that
 * memory must stay allocated while the plan is used. Other functions (memory, events)
 * are not recorded: they run at once. A plan runs on any context of the backend it was
 * recorded on. A context records the calls of every thread that uses it: record on a
 * context no other thread uses meanwhile (contexts are not thread-safe anyway). */
typedef struct mamba4j_plan mamba4j_plan;
MAMBA4J_API mamba4j_status mamba4j_plan_begin(mamba4j_context* ctx);
/* Ends the recording; *out receives the plan (free it with mamba4j_plan_destroy). */
MAMBA4J_API mamba4j_status mamba4j_plan_end(mamba4j_context* ctx, mamba4j_plan** out);
/* Runs the calls in order; at the first that fails, returns its status, the message
 * naming the call's number and its own message. */
MAMBA4J_API mamba4j_status mamba4j_plan_run(mamba4j_context* ctx, const mamba4j_plan* plan);
/* Number of calls recorded. */
MAMBA4J_API mamba4j_status mamba4j_plan_size(const mamba4j_plan* plan, int64_t* calls);
MAMBA4J_API mamba4j_status mamba4j_plan_destroy(mamba4j_plan* plan);

#ifdef __cplusplus
}
#endif
#endif /* MAMBA4J_H */
