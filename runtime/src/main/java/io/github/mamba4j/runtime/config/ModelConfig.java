package io.github.mamba4j.runtime.config;

import java.util.List;

/**
 * A model as the runtime runs it: the family, the widths, the list of pre-norm residual
 * blocks in order, and the names of the embedding, final norm and output head.
 *
 * @param embedding       names tried in order for the embedding table [vocab, D]
 * @param lmHead          the output head [vocab, D]; with {@code tieEmbeddings} the embedding is used when absent
 * @param embeddingScale  multiplies the embeddings (Granite's embedding_multiplier)
 * @param logitsScale     divides the logits (Granite's logits_scaling)
 * @param dtype           the checkpoint's declared dtype (torch_dtype / dtype), informative
 */
public record ModelConfig(Family family, int vocabSize, int hidden, List<Block> blocks, float normEps,
                          List<String> embedding, String finalNorm, String lmHead, boolean tieEmbeddings,
                          float embeddingScale, float logitsScale, int maxPositions, List<Integer> eosTokenIds,
                          Integer bosTokenId, String dtype) {
    public ModelConfig {
        blocks = List.copyOf(blocks);
        embedding = List.copyOf(embedding);
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    /** The layer pattern in Nemotron-H letters: M Mamba-2, m Mamba-1, * attention, - MLP. */
    public String pattern() {
        StringBuilder s = new StringBuilder();
        for (Block b : blocks)
            s.append(switch (b.mixer()) {
                case Mixer.Mamba1 m -> 'm';
                case Mixer.Mamba2 m -> 'M';
                case Mixer.Attention a -> '*';
                case Mixer.Mlp m -> '-';
            });
        return s.toString();
    }
}
