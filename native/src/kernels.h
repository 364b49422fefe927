// The backend implementations behind each entry point of mamba4j.h. Arguments reach
// them already checked (src/api/*.cpp); each dispatches on args.algo.
#pragma once
#include "common.h"

#include <vector>

namespace mamba4j::cpu {
void rmsnorm(const mamba4j_rmsnorm_args& a);
void gated_rmsnorm(const mamba4j_gated_rmsnorm_args& a);
void conv1d(const mamba4j_conv1d_args& a);
void selective_scan(const mamba4j_selective_scan_args& a);
void ssd(const mamba4j_ssd_args& a);
void rope(const mamba4j_rope_args& a);
void attention(const mamba4j_attention_args& a);
void matmul(const mamba4j_matmul_args& a);
void activation(const mamba4j_activation_args& a);
void embedding(const mamba4j_embedding_args& a);
void sample(const mamba4j_sample_args& a);
// inv_freq[i] of RoPE (fp32, llama3 scaling applied), i < rotary_dim/2; shared with CUDA
std::vector<float> rope_inverse_frequencies(const mamba4j_rope_args& a);
}  // namespace mamba4j::cpu

#ifdef MAMBA4J_WITH_CUDA
namespace mamba4j::cuda {
void rmsnorm(mamba4j_context* ctx, const mamba4j_rmsnorm_args& a);
void gated_rmsnorm(mamba4j_context* ctx, const mamba4j_gated_rmsnorm_args& a);
void conv1d(mamba4j_context* ctx, const mamba4j_conv1d_args& a);
void selective_scan(mamba4j_context* ctx, const mamba4j_selective_scan_args& a);
void ssd(mamba4j_context* ctx, const mamba4j_ssd_args& a);
void attention(mamba4j_context* ctx, const mamba4j_attention_args& a);
void rope(mamba4j_context* ctx, const mamba4j_rope_args& a);
void sample(mamba4j_context* ctx, const mamba4j_sample_args& a);
void matmul(mamba4j_context* ctx, const mamba4j_matmul_args& a);  // cuBLAS, loaded at run time
}  // namespace mamba4j::cuda
#endif
