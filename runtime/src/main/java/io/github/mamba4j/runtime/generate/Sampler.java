package io.github.mamba4j.runtime.generate;

import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;

/** Picks tokens from logits by {@link SamplingParams}; one per sequence (it holds the random stream). */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;
    private final BitSet seen = new BitSet();

    public Sampler(SamplingParams params) {
        this.params = params;
        this.random = new SplittableRandom(params.seed());
    }

    /** Records tokens the repetition penalty should see (the prompt, then each token chosen). */
    public void observe(int... tokens) {
        for (int t : tokens) seen.set(t);
    }

    /** Chooses the next token from {@code logits} [V] (not modified) and observes it. */
    public int next(float[] logits) {
        int token = choose(logits);
        seen.set(token);
        return token;
    }

    private int choose(float[] raw) {
        float[] logits = raw.clone();
        float penalty = params.repetitionPenalty();
        if (penalty != 1f)
            for (int t = seen.nextSetBit(0); t >= 0 && t < logits.length; t = seen.nextSetBit(t + 1))
                logits[t] = logits[t] > 0 ? logits[t] / penalty : logits[t] * penalty;
        if (params.temperature() == 0f) return argmax(logits);
        int v = logits.length;
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
        int keep = params.topK() > 0 ? Math.min(params.topK(), v) : v;
        // softmax over the kept tokens at this temperature (max first for stability)
        double[] p = new double[keep];
        double max = logits[order[0]] / params.temperature(), sum = 0;
        for (int i = 0; i < keep; i++) sum += p[i] = Math.exp(logits[order[i]] / params.temperature() - max);
        for (int i = 0; i < keep; i++) p[i] /= sum;
        if (params.topP() < 1f) { // smallest prefix whose mass reaches top-p (at least one token)
            double mass = 0;
            int n = 0;
            while (n < keep && mass < params.topP()) mass += p[n++];
            keep = Math.max(n, 1);
        }
        if (params.minP() > 0f) {
            double floor = params.minP() * p[0];
            int n = 1;
            while (n < keep && p[n] >= floor) n++;
            keep = n;
        }
        double total = 0;
        for (int i = 0; i < keep; i++) total += p[i];
        double u = random.nextDouble() * total;
        for (int i = 0; i < keep; i++) {
            u -= p[i];
            if (u < 0) return order[i];
        }
        return order[keep - 1];
    }

    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
