package io.github.mamba4j.runtime.generate;

import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * Picks tokens from logits by {@link SamplingParams}; one per sequence (it holds the random stream).
 *
 * <p>After the repetition penalty, the filters and the draw are exactly those of the native
 * {@code mamba4j_sample} (native/include/mamba4j.h): order the ids by logit, descending, equal
 * logits by lower id; weights w = exp((x − max x) / T); keep the top-k, then the shortest prefix
 * holding top-p of their weight, then those with w ≥ min-p; then draw with one uniform u in
 * [0, 1) (24 random bits, a float) the first kept id, in id order, whose cumulative weight
 * exceeds u·S. So for the same u this picks the token the native sampler picks.
 *
 * <p>No sort of the vocabulary: top-k keeps a bounded heap, top-p sorts only the candidates that
 * can be in the nucleus (a token of weight below (1 − top-p)·S / n cannot: all such tokens
 * together weigh less than (1 − top-p)·S), min-p and the draw are thresholds.
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;
    private final BitSet seen = new BitSet();
    private double[] w = new double[0];

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
        float[] x = logits;
        float penalty = params.repetitionPenalty();
        if (penalty != 1f && !seen.isEmpty()) {
            x = logits.clone();
            for (int t = seen.nextSetBit(0); t >= 0 && t < x.length; t = seen.nextSetBit(t + 1))
                x[t] = x[t] > 0 ? x[t] / penalty : x[t] * penalty;
        }
        int token = params.temperature() == 0f ? argmax(x) : choose(x, (random.nextInt(1 << 24)) / (float) (1 << 24));
        seen.set(token);
        return token;
    }

    /** The token that {@code u} in [0, 1) draws from {@code x} [V] (sampling, temperature > 0). */
    int choose(float[] x, float u) {
        int v = x.length;
        float max = x[argmax(x)];
        if (max == Float.POSITIVE_INFINITY || max == Float.NEGATIVE_INFINITY)
            throw new IllegalArgumentException("cannot sample: the largest logit is " + max);
        if (w.length < v) w = new double[v];
        double temperature = params.temperature();
        for (int i = 0; i < v; i++) w[i] = Math.exp((x[i] - (double) max) / temperature);

        int topK = params.topK() > 0 && params.topK() < v ? params.topK() : 0;
        float topP = params.topP(), minP = params.minP();
        if (topK == 0 && topP >= 1f) { // at most a threshold: no ordering needed
            double s = 0;
            for (int i = 0; i < v; i++) if (w[i] >= minP) s += w[i];
            double target = u * s, c = 0;
            int last = -1;
            for (int i = 0; i < v; i++) {
                if (w[i] < minP) continue;
                last = i;
                if ((c += w[i]) > target) return i;
            }
            return last;
        }
        // candidates as order keys (smaller = earlier), sorted: the top-k, or those that can reach the nucleus
        long[] keys;
        double mass = 0; // Σ w over the top-k set (the whole vocabulary without top-k)
        if (topK > 0) {
            keys = topKeys(x, topK);
            for (long k : keys) mass += w[(int) k];
        } else {
            for (int i = 0; i < v; i++) mass += w[i];
            double floor = Math.max(minP, (1 - topP) * mass / v);
            int n = 0;
            for (int i = 0; i < v; i++) if (w[i] >= floor) n++;
            keys = new long[n];
            n = 0;
            for (int i = 0; i < v; i++) if (w[i] >= floor) keys[n++] = key(x[i], i);
            Arrays.sort(keys);
        }
        int n = keys.length;
        if (topP < 1f) { // the shortest prefix whose weight reaches topP · mass (at least one token)
            double c = 0, need = topP * mass;
            int m = 0;
            while (m < n && c < need) c += w[(int) keys[m++]];
            n = Math.max(m, 1);
        }
        if (minP > 0f) { // weights descend along the order: cut at the first below min-p
            int m = 0;
            while (m < n && w[(int) keys[m]] >= minP) m++;
            n = m;
        }
        // the draw, in id order over the kept ids
        int[] kept = new int[n];
        double s = 0;
        for (int j = 0; j < n; j++) s += w[kept[j] = (int) keys[j]];
        Arrays.sort(kept);
        double target = u * s, c = 0;
        for (int id : kept) if ((c += w[id]) > target) return id;
        return kept[n - 1];
    }

    /** Order key of id i with logit x: by x descending, then id ascending (low 32 bits: the id). */
    private static long key(float x, int i) {
        int bits = Float.floatToIntBits(x == 0f ? 0f : x); // -0 ties with +0
        int ascending = bits ^ ((bits >> 31) & 0x7fffffff); // int order == float order
        return ((long) ~ascending << 32) | i;
    }

    /** The k smallest keys of the vocabulary, sorted: a max-heap of k keys over one pass. */
    private static long[] topKeys(float[] x, int k) {
        long[] heap = new long[k];
        for (int i = 0; i < k; i++) heap[i] = key(x[i], i);
        for (int i = k / 2 - 1; i >= 0; i--) siftDown(heap, i, k);
        for (int i = k; i < x.length; i++) {
            long key = key(x[i], i);
            if (key < heap[0]) {
                heap[0] = key;
                siftDown(heap, 0, k);
            }
        }
        Arrays.sort(heap);
        return heap;
    }

    private static void siftDown(long[] heap, int i, int n) {
        while (true) {
            int l = 2 * i + 1, r = l + 1, top = i;
            if (l < n && heap[l] > heap[top]) top = l;
            if (r < n && heap[r] > heap[top]) top = r;
            if (top == i) return;
            long t = heap[i];
            heap[i] = heap[top];
            heap[top] = t;
            i = top;
        }
    }

    /** The id of the largest logit (the lowest id among equal maxima); a NaN logit is an error. */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 0; i < logits.length; i++) {
            if (Float.isNaN(logits[i])) throw new IllegalArgumentException("logit " + i + " is NaN");
            if (logits[i] > logits[best]) best = i;
        }
        return best;
    }
}
