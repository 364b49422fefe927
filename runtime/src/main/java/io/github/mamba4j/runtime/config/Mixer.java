package io.github.mamba4j.runtime.config;

/**
 * What one pre-norm residual block computes; tensor names are full names as the family's
 * checkpoints spell them (the loader also tries the {@code backbone.}/{@code model.}
 * prefix swap).
 */
public sealed interface Mixer permits Mixer.Mamba1, Mixer.Mamba2, Mixer.Attention, Mixer.Mlp {

    /** Tensor name prefix, ending with '.', e.g. {@code backbone.layers.3.mixer.}. */
    String prefix();

    /**
     * Mamba-1 selective SSM: in_proj [2E, D] (x then z), conv1d [E,1,K], x_proj [rank+2N, E]
     * (dt_low, B, C), dt_proj [E, rank] + bias, A_log [E, N], D [E], out_proj [D, E].
     */
    record Mamba1(String prefix, int inner, int state, int dtRank, int convWidth, boolean convBias, boolean projBias)
            implements Mixer {}

    /**
     * Mamba-2 SSD: in_proj [2E+2GN+H, D] (z, xBC, dt), conv1d [E+2GN,1,K] over xBC,
     * dt_bias/A_log/D [H], gated RMSNorm over groups of {@code normGroupSize} (E for HF
     * Mamba2, Bamba, Granite; E/G for Nemotron-H), out_proj [D, E].
     * dtMax <= 0 or infinite: no upper limit.
     */
    record Mamba2(String prefix, int heads, int headDim, int groups, int state, int convWidth, int chunkSize,
                  float dtMin, float dtMax, int normGroupSize, float normEps, boolean convBias, boolean projBias)
            implements Mixer {
        public int inner() {
            return heads * headDim;
        }

        public int convChannels() {
            return inner() + 2 * groups * state;
        }

        public int inProjRows() {
            return 2 * inner() + 2 * groups * state + heads;
        }
    }

    /** Rotary embedding, rotate-half form, on the first {@code rotaryDim} channels of each head. */
    record Rope(float theta, int rotaryDim, Llama3 llama3) {}

    /** llama3 frequency scaling of RoPE. */
    record Llama3(float factor, float lowFreqFactor, float highFreqFactor, int originalMaxPosition) {}

    /** Causal GQA attention; q/k/v/o_proj; rope null for none; scale of q·k. */
    record Attention(String prefix, int qHeads, int kvHeads, int headDim, float scale, Rope rope, boolean bias)
            implements Mixer {}

    enum Activation { SILU_GATE, RELU2 }

    /**
     * Feed-forward: SILU_GATE down(silu(gate x) ⊙ up x), or RELU2 down(relu(up x)²).
     * {@code gateUp} set: one fused [2I, D] tensor, gate rows first (Granite's input_linear).
     */
    record Mlp(String prefix, Activation activation, int intermediate, String gate, String up, String gateUp,
               String down, boolean bias) implements Mixer {}
}
