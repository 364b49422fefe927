package io.github.mamba4j.runtime.model;

import io.github.mamba4j.runtime.config.Mixer;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * The kernels a model runs, with the semantics, layouts and strides of the C ABI
 * (native/include/mamba4j.h): activations here are fp32 off-heap segments, strides in
 * elements, innermost dimension contiguous; weights are {@link Tensor}s in their stored
 * dtype (F32 or BF16 for matrices; fp32 for the small per-channel vectors); recurrent
 * states fp32. {@code slots} picks the state / cache row of each batch row.
 * {@link NativeKernels} runs them through the bindings' wrappers; the tests hold a
 * plain-Java implementation as an independent check.
 */
public interface Kernels {

    /** y[m,:] (+)= x[m,:] · Wᵀ + bias, W [n, k]. */
    void matmul(int m, int n, int k, MemorySegment x, long xStride, Tensor w, Tensor bias, MemorySegment y, long yStride,
                boolean accumulate);

    /** y = x / sqrt(mean(x²) + eps) · w over rows of dim. */
    void rmsnorm(int rows, int dim, MemorySegment x, long xStride, Tensor w, MemorySegment y, long yStride, float eps);

    /** y = rmsnorm_g(x ⊙ silu(z)) · w per group of groupSize channels (norm after the gate). */
    void gatedRmsnorm(int rows, int dim, int groupSize, MemorySegment x, long xStride, MemorySegment z, long zStride, Tensor w,
                      MemorySegment y, long yStride, float eps);

    /** Causal depthwise conv1d of width K with state [slots, K-1, C], optional SiLU (mamba4j_conv1d). */
    void conv1d(int batch, int seqlen, int channels, int width, MemorySegment x, long xStrideB, long xStrideT, Tensor w,
                Tensor bias, MemorySegment convState, int[] slots, MemorySegment y, long yStrideB, long yStrideT, boolean silu);

    /** Strided view of one operand of a scan: segment, stride per batch row, stride per token. */
    record Strided(MemorySegment data, long strideB, long strideT) {}

    /** Mamba-1 selective scan with softplus(dt + dt_bias), state [slots, E, N] (mamba4j_selective_scan). */
    void selectiveScan(int batch, int seqlen, int inner, int state, Strided u, Strided dt, Tensor dtBias, Tensor aLog,
                       Strided b, Strided c, Tensor d, Strided z, MemorySegment ssmState, int[] slots, Strided y);

    /** Mamba-2 SSD, state [slots, H, P, N] (mamba4j_ssd); z may be null. */
    void ssd(int batch, int seqlen, int heads, int headDim, int groups, int state, int chunkSize, Strided x, Strided dt,
             Tensor dtBias, Tensor aLog, Strided b, Strided c, Tensor d, Strided z, float dtMin, float dtMax,
             MemorySegment ssmState, int[] slots, Strided y);

    /** Rotary embedding in place on q [B, L, Hq, d] and k [B, L, Hkv, d]; position = startPos[b] + t. */
    void rope(int batch, int seqlen, int qHeads, int kvHeads, int headDim, Mixer.Rope rope, Strided q, Strided k, int[] startPos);

    /** Causal GQA over a KV cache [slots, T, Hkv, d] after writing k, v at startPos[b] (mamba4j_attention). */
    void attention(int batch, int seqlen, int qHeads, int kvHeads, int headDim, int capacity, Strided q, Strided k, Strided v,
                   MemorySegment kCache, MemorySegment vCache, int[] slots, int[] startPos, Strided out, float scale);

    /** y = silu(gate) ⊙ up (SILU_GATE) or relu(gate)² (RELU2), rows × dim. */
    void activation(int rows, int dim, Mixer.Activation kind, MemorySegment gate, long gateStride, MemorySegment up,
                    long upStride, MemorySegment y, long yStride);

    /** out[i,:] = table[ids[i],:]; an id outside [0, vocab) is an error naming it. */
    void embedding(int count, int[] ids, Tensor table, MemorySegment out, long outStride);

    /**
     * The kernel calls {@code calls} makes, recorded to be made again by {@link Replay#run}
     * ({@link NativeKernels}: one native call for all of them), or null where these kernels
     * cannot record. While recording, calls are checked and kept, not run; an int array
     * among the keys of {@code inputs} (by identity) stands for the native int32 array
     * mapped to it, which a replay reads as it is then. Any other int array is an error.
     */
    default Replay record(Map<int[], MemorySegment> inputs, Runnable calls) {
        return null;
    }

    /** Recorded kernel calls: {@link #run} makes them again; closing frees them. */
    interface Replay extends AutoCloseable {
        void run();

        @Override
        void close();
    }
}
