// Rotary position embedding on CUDA, rotate-half form, in place (same math as cpu/rope.cpp):
//   p = start_pos[b] + t;  angle = fp32(p · inv_freq[i]);  c, s = cos, sin of angle (fp64)
//   x'[i] = x[i]·c − x[i+half]·s;   x'[i+half] = x[i+half]·c + x[i]·s   (i < half = r/2)
// inv_freq (with llama3 scaling) is computed on the host by the CPU backend's function, so
// both backends round it identically, and passed by value in the kernel parameters.
// One block per token (b, t): its cos/sin once in shared memory, then every pair of every
// q and k head of that token. cos/sin in fp64 because angles reach 1e5 rad and more at long
// positions, where fp32 sin/cos (and the fast-math intrinsics) lose the phase.
#include "../kernels.h"
#include "cuda_util.cuh"

namespace mamba4j::cuda {

constexpr int kMaxHalf = 512;  // rotary_dim <= 1024: 2 KiB of kernel parameters
struct InvFreq {
    float f[kMaxHalf];
};

// q [B, L, Hq, d], k [B, L, Hkv, d] (k may be null). grid.x = B·L, blockDim.x = 128.
template <class T>
__global__ void rope_kernel(T* q, int64_t q_sb, int64_t q_st, T* k, int64_t k_sb, int64_t k_st, int64_t seqlen,
                            int q_heads, int kv_heads, int d, int half, const int32_t* start_pos, InvFreq inv) {
    __shared__ float cos_p[kMaxHalf], sin_p[kMaxHalf];
    const int64_t b = blockIdx.x / seqlen, t = blockIdx.x % seqlen;
    const int64_t p = (start_pos ? int64_t(start_pos[b]) : 0) + t;
    for (int i = threadIdx.x; i < half; i += blockDim.x) {
        const float angle = float(p) * inv.f[i];
        double s, c;
        sincos(double(angle), &s, &c);
        cos_p[i] = float(c);
        sin_p[i] = float(s);
    }
    __syncthreads();
    T* qr = q + b * q_sb + t * q_st;
    T* kr = k ? k + b * k_sb + t * k_st : nullptr;
    const int heads = q_heads + (k ? kv_heads : 0);
    for (int j = threadIdx.x; j < heads * half; j += blockDim.x) {
        const int h = j / half, i = j % half;
        T* x = h < q_heads ? qr + int64_t(h) * d : kr + int64_t(h - q_heads) * d;
        const float a = to_f32(x[i]), c = to_f32(x[i + half]);
        x[i] = from_f32<T>(a * cos_p[i] - c * sin_p[i]);
        x[i + half] = from_f32<T>(c * cos_p[i] + a * sin_p[i]);
    }
}

void rope(mamba4j_context* ctx, const mamba4j_rope_args& a) {
    check(cudaSetDevice(ctx->device), "cudaSetDevice");
    const int64_t half = a.rotary_dim / 2, tokens = a.batch * a.seqlen;
    if (half > kMaxHalf) fail(MAMBA4J_ERR_UNSUPPORTED, "rotary_dim > %d on CUDA, got %lld", 2 * kMaxHalf, (long long)a.rotary_dim);
    if (tokens > 2147483647) fail(MAMBA4J_ERR_UNSUPPORTED, "batch · seqlen > 2^31-1 on CUDA");
    if (a.head_dim > 65536 || a.q_heads + (a.k ? a.kv_heads : 0) > 65536)
        fail(MAMBA4J_ERR_UNSUPPORTED, "head_dim and heads must be <= 65536 on CUDA");
    InvFreq inv{};
    const std::vector<float> f = cpu::rope_inverse_frequencies(a);
    std::copy(f.begin(), f.end(), inv.f);
    with_dtype(a.dtype, [&](auto zero) {
        using T = decltype(zero);
        rope_kernel<T><<<unsigned(tokens), 128, 0, stream_of(ctx)>>>(
            static_cast<T*>(a.q), a.q_stride_b, a.q_stride_t, static_cast<T*>(a.k), a.k_stride_b, a.k_stride_t,
            a.seqlen, int(a.q_heads), int(a.kv_heads), int(a.head_dim), int(half), a.start_pos, inv);
    });
    check_launch("rope_kernel");
}

}  // namespace mamba4j::cuda
