// Causal depthwise conv1d on CUDA (same math as the CPU reference, mamba4j.h mamba4j_conv1d):
//   y[b,t,c] = act(bias[c] + Σ_{k<K} w[c,k] · x̃[b, t-K+1+k, c]),  x̃ before t = 0 from conv_state
// Two kernels on the stream: the output (each thread one channel over a run of tokens,
// the K-wide window in registers, coalesced across channels), then the new conv state
// (the last K-1 inputs, older state rows when L < K-1), so no block reads a state row
// another block already overwrote. L == 1 is the decode step.
#include "../kernels.h"
#include "cuda_util.cuh"

namespace mamba4j::cuda {

constexpr int kMaxWidth = 8;
constexpr int kTokensPerThread = 64;

template <class T, class W>
__global__ void __launch_bounds__(128) conv1d_kernel(const mamba4j_conv1d_args a) {
    const int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (c >= a.channels) return;
    const int64_t b = blockIdx.z;
    const int64_t t0 = int64_t(blockIdx.y) * kTokensPerThread;
    const int K = int(a.width);
    const T* x = static_cast<const T*>(a.x) + b * a.x_stride_b + c;
    const W* w = static_cast<const W*>(a.w) + c * K;
    float wk[kMaxWidth], win[kMaxWidth];
#pragma unroll
    for (int k = 0; k < kMaxWidth; k++) wk[k] = k < K ? to_f32(w[k]) : 0.f;
    const float bias = a.bias ? to_f32(static_cast<const W*>(a.bias)[c]) : 0.f;
    const int64_t slot = a.state_slots ? a.state_slots[b] : b;
    const float* st = a.conv_state ? a.conv_state + slot * (K - 1) * a.channels + c : nullptr;
    // win[k] holds x̃[t-K+1+k] for the current t; preload positions t0-K+1 .. t0-1.
#pragma unroll
    for (int k = 0; k < kMaxWidth - 1; k++) {
        win[k] = 0.f;
        if (k < K - 1) {
            const int64_t pos = t0 - (K - 1) + k;
            if (pos >= 0) win[k] = to_f32(x[pos * a.x_stride_t]);
            else if (st) win[k] = st[((K - 1) + pos) * a.channels];
        }
    }
    T* y = static_cast<T*>(a.y) + b * a.y_stride_b + c;
    const int64_t t_end = min(a.seqlen, t0 + kTokensPerThread);
    for (int64_t t = t0; t < t_end; t++) {
        const float xt = to_f32(x[t * a.x_stride_t]);
        float acc = bias;
#pragma unroll
        for (int k = 0; k < kMaxWidth; k++) {
            if (k < K - 1) acc = fmaf(wk[k], win[k], acc);
            else if (k == K - 1) acc = fmaf(wk[k], xt, acc);
        }
        // shift the window by one token
#pragma unroll
        for (int k = 0; k < kMaxWidth - 2; k++) win[k] = win[k + 1];
#pragma unroll
        for (int k = 0; k < kMaxWidth - 1; k++)
            if (k == K - 2) win[k] = xt;
        if (a.silu) acc = silu_f(acc);
        y[t * a.y_stride_t] = from_f32<T>(acc);
    }
}

// Vectorised form for 16-bit dtypes, K <= 4: each thread 8 consecutive channels (16-byte
// loads and stores), a run of tokens, four tokens loaded before they are used.
template <class T, class W>
__global__ void __launch_bounds__(128) conv1d_vec_kernel(const mamba4j_conv1d_args a) {
    constexpr int KM = 4;
    const int64_t c = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) * 8;
    if (c >= a.channels) return;
    const int64_t b = blockIdx.z;
    const int64_t t0 = int64_t(blockIdx.y) * kTokensPerThread;
    const int K = int(a.width);
    const T* x = static_cast<const T*>(a.x) + b * a.x_stride_b + c;
    float wk[KM][8], bias[8], win[KM - 1][8];
#pragma unroll
    for (int j = 0; j < 8; j++) {
        const W* w = static_cast<const W*>(a.w) + (c + j) * K;
#pragma unroll
        for (int k = 0; k < KM; k++) wk[k][j] = k < K ? to_f32(w[k]) : 0.f;
        bias[j] = a.bias ? to_f32(static_cast<const W*>(a.bias)[c + j]) : 0.f;
    }
    const int64_t slot = a.state_slots ? a.state_slots[b] : b;
    const float* st = a.conv_state ? a.conv_state + slot * (K - 1) * a.channels + c : nullptr;
    // win[k] = x̃ at t - (K-1) + k for k < K-1 (older first); unused slots stay 0
#pragma unroll
    for (int k = 0; k < KM - 1; k++) {
#pragma unroll
        for (int j = 0; j < 8; j++) win[k][j] = 0.f;
        if (k < K - 1) {
            const int64_t pos = t0 - (K - 1) + k;
            if (pos >= 0) {
                uint4 u = *reinterpret_cast<const uint4*>(x + pos * a.x_stride_t);
                const T* e = reinterpret_cast<const T*>(&u);
#pragma unroll
                for (int j = 0; j < 8; j++) win[k][j] = to_f32(e[j]);
            } else if (st) {
#pragma unroll
                for (int j = 0; j < 8; j++) win[k][j] = st[((K - 1) + pos) * a.channels + j];
            }
        }
    }
    T* y = static_cast<T*>(a.y) + b * a.y_stride_b + c;
    const int64_t t_end = min(a.seqlen, t0 + kTokensPerThread);
    for (int64_t tb = t0; tb < t_end; tb += 4) {
        uint4 xu[4];
#pragma unroll
        for (int u = 0; u < 4; u++)
            xu[u] = tb + u < t_end ? *reinterpret_cast<const uint4*>(x + (tb + u) * a.x_stride_t) : make_uint4(0, 0, 0, 0);
#pragma unroll
        for (int u = 0; u < 4; u++) {
            if (tb + u >= t_end) break;
            const T* e = reinterpret_cast<const T*>(&xu[u]);
            uint4 yu;
            T* ye = reinterpret_cast<T*>(&yu);
#pragma unroll
            for (int j = 0; j < 8; j++) {
                const float xt = to_f32(e[j]);
                float acc = bias[j];
#pragma unroll
                for (int k = 0; k < KM - 1; k++)
                    if (k < K - 1) acc = fmaf(wk[k][j], win[k][j], acc);
#pragma unroll
                for (int k = 0; k < KM; k++)
                    if (k == K - 1) acc = fmaf(wk[k][j], xt, acc);
                // shift: drop the oldest, append xt at K-2
#pragma unroll
                for (int k = 0; k < KM - 2; k++)
                    if (k < K - 2) win[k][j] = win[k + 1][j];
#pragma unroll
                for (int k = 0; k < KM - 1; k++)
                    if (k == K - 2) win[k][j] = xt;
                ye[j] = from_f32<T>(a.silu ? silu_f(acc) : acc);
            }
            *reinterpret_cast<uint4*>(y + (tb + u) * a.y_stride_t) = yu;
        }
    }
}

// New state rows r < K-1 hold position L-(K-1)+r: from x when >= 0, else the old row.
template <class T>
__global__ void __launch_bounds__(128) conv1d_state_kernel(const mamba4j_conv1d_args a) {
    const int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
    if (c >= a.channels) return;
    const int64_t b = blockIdx.y;
    const int K = int(a.width);
    const int64_t slot = a.state_slots ? a.state_slots[b] : b;
    float* st = a.conv_state + slot * (K - 1) * a.channels + c;
    const T* x = static_cast<const T*>(a.x) + b * a.x_stride_b + c;
    float nw[kMaxWidth];
#pragma unroll
    for (int r = 0; r < kMaxWidth - 1; r++) {
        nw[r] = 0.f;
        if (r < K - 1) {
            const int64_t pos = a.seqlen - (K - 1) + r;
            nw[r] = pos >= 0 ? to_f32(x[pos * a.x_stride_t]) : st[((K - 1) + pos) * a.channels];
        }
    }
#pragma unroll
    for (int r = 0; r < kMaxWidth - 1; r++)
        if (r < K - 1) st[r * a.channels] = nw[r];
}

template <class T, class W>
static void launch(mamba4j_context* ctx, const mamba4j_conv1d_args& a) {
    const int64_t cblocks = (a.channels + 127) / 128;
    const int64_t tblocks = (a.seqlen + kTokensPerThread - 1) / kTokensPerThread;
    if (cblocks > 2147483647 || tblocks > 65535 || a.batch > 65535)
        fail(MAMBA4J_ERR_UNSUPPORTED, "conv1d: grid too large for one CUDA launch");
    cudaStream_t s = stream_of(ctx);
    auto al16 = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
    bool vec = false;
    if constexpr (sizeof(T) == 2)
        vec = a.width <= 4 && a.channels % 8 == 0 && al16(a.x) && al16(a.y) && a.x_stride_t % 8 == 0 &&
              a.x_stride_b % 8 == 0 && a.y_stride_t % 8 == 0 && a.y_stride_b % 8 == 0;
    if (vec) {
        const int64_t vblocks = (a.channels / 8 + 127) / 128;
        conv1d_vec_kernel<T, W><<<dim3(unsigned(vblocks), unsigned(tblocks), unsigned(a.batch)), 128, 0, s>>>(a);
        check_launch("conv1d_vec_kernel");
    } else {
        conv1d_kernel<T, W><<<dim3(unsigned(cblocks), unsigned(tblocks), unsigned(a.batch)), 128, 0, s>>>(a);
        check_launch("conv1d_kernel");
    }
    if (a.conv_state && a.width > 1) {
        conv1d_state_kernel<T><<<dim3(unsigned(cblocks), unsigned(a.batch)), 128, 0, s>>>(a);
        check_launch("conv1d_state_kernel");
    }
}

void conv1d(mamba4j_context* ctx, const mamba4j_conv1d_args& a) {
    check(cudaSetDevice(ctx->device), "cudaSetDevice");
    if (a.width > kMaxWidth) fail(MAMBA4J_ERR_UNSUPPORTED, "conv1d on CUDA supports width <= %d, got %lld", kMaxWidth, (long long)a.width);
    with_dtype(a.dtype, [&](auto t) {
        using T = decltype(t);
        with_dtype(a.weight_dtype, [&](auto w) { launch<T, decltype(w)>(ctx, a); });
    });
}

}  // namespace mamba4j::cuda
