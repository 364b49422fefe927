// Shared between src/cpu/ssd.cpp (orchestration) and src/cpu/isa/ssd_isa.cpp (the SIMD
// work of each chunk): the buffers of one window of chunks of the chunked SSD.
#pragma once
#include "mamba4j.h"

#include <cstdint>

namespace mamba4j::cpu {

// One window of chunks [c_begin, c_begin + chunks) of every batch row.
//   chunk_state [B, chunks, H, P, N]: step 2 writes each chunk's own end state; step 3
//                replaces it with the state entering the chunk, which step 4 reads.
//   chunk_decay [B, chunks, H]: exp(Σ Δ·A over the chunk).
//   cum [B, H, chunks · Q]: cumulative Σ Δ·A within each chunk, up to and including t.
struct SsdWindow {
    const mamba4j_ssd_args* a;
    int64_t Q;        // chunk size
    int64_t c_begin;  // first chunk of the window (in chunks from t = 0)
    int64_t chunks;   // chunks in this window
    float* chunk_state;
    float* chunk_decay;
    float* cum;
};

}  // namespace mamba4j::cpu
