package io.github.mamba4j.runtime.generate;

/**
 * How the next token is chosen. temperature 0 is greedy (argmax); otherwise, in this order
 * (as Hugging Face's logits processors): repetition penalty over the tokens seen (logit / p
 * when positive, · p when negative), temperature, top-k (0 = off), top-p (1 = off), min-p
 * (0 = off: drop tokens below minP × the top probability), then a draw from a
 * {@link java.util.SplittableRandom} seeded with {@code seed}: same seed, same tokens.
 */
public record SamplingParams(float temperature, int topK, float topP, float minP, float repetitionPenalty, long seed) {
    public static final SamplingParams GREEDY = new SamplingParams(0f, 0, 1f, 0f, 1f, 0L);

    public SamplingParams {
        if (!(temperature >= 0)) throw new IllegalArgumentException("temperature must be >= 0, not " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be >= 0, not " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], not " + topP);
        if (!(minP >= 0 && minP <= 1)) throw new IllegalArgumentException("min-p must be in [0, 1], not " + minP);
        if (!(repetitionPenalty > 0)) throw new IllegalArgumentException("repetition penalty must be > 0, not " + repetitionPenalty);
    }

    public static SamplingParams temperature(float temperature, long seed) {
        return new SamplingParams(temperature, 0, 1f, 0f, 1f, seed);
    }

    public SamplingParams withTopK(int k) {
        return new SamplingParams(temperature, k, topP, minP, repetitionPenalty, seed);
    }

    public SamplingParams withTopP(float p) {
        return new SamplingParams(temperature, topK, p, minP, repetitionPenalty, seed);
    }

    public SamplingParams withMinP(float p) {
        return new SamplingParams(temperature, topK, topP, p, repetitionPenalty, seed);
    }

    public SamplingParams withRepetitionPenalty(float p) {
        return new SamplingParams(temperature, topK, topP, minP, p, seed);
    }
}
