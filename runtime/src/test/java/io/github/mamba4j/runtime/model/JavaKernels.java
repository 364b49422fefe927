package io.github.mamba4j.runtime.model;

import io.github.mamba4j.runtime.config.Mixer;
import io.github.mamba4j.runtime.tensor.DType;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Plain-Java reference of {@link Kernels}: the math of DESIGN.md §3 line by line, fp32
 * (fp64 accumulation where a sum runs long). Slow; it is the yardstick and the fallback
 * that lets the runtime's parity tests run before (and without) the native kernels.
 */
public final class JavaKernels implements Kernels {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    static float get(MemorySegment s, long i) {
        return s.getAtIndex(F, i);
    }

    static void set(MemorySegment s, long i, float v) {
        s.setAtIndex(F, i, v);
    }

    static float silu(float x) {
        return x / (1f + (float) Math.exp(-x));
    }

    static float softplus(float x) {
        return x > 20f ? x : (float) Math.log1p(Math.exp(x));
    }

    @Override
    public void matmul(int m, int n, int k, MemorySegment x, long xStride, Tensor w, Tensor bias, MemorySegment y, long yStride,
                       boolean accumulate) {
        boolean f32 = w.dtype() == DType.F32;
        MemorySegment wd = w.data();
        float[] row = new float[k];
        for (int r = 0; r < m; r++) {
            for (int i = 0; i < k; i++) row[i] = get(x, r * xStride + i);
            for (int o = 0; o < n; o++) {
                double acc = 0;
                long base = (long) o * k;
                if (f32) for (int i = 0; i < k; i++) acc += row[i] * wd.getAtIndex(F, base + i);
                else for (int i = 0; i < k; i++) acc += row[i] * w.getFloat(base + i);
                if (bias != null) acc += bias.getFloat(o);
                long yi = r * yStride + o;
                set(y, yi, (float) (accumulate ? get(y, yi) + acc : acc));
            }
        }
    }

    @Override
    public void rmsnorm(int rows, int dim, MemorySegment x, long xStride, Tensor w, MemorySegment y, long yStride, float eps) {
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < dim; i++) {
                float v = get(x, r * xStride + i);
                ss += v * v;
            }
            float inv = (float) (1 / Math.sqrt(ss / dim + eps));
            for (int i = 0; i < dim; i++) set(y, r * yStride + i, get(x, r * xStride + i) * inv * w.getFloat(i));
        }
    }

    @Override
    public void gatedRmsnorm(int rows, int dim, int groupSize, MemorySegment x, long xStride, MemorySegment z, long zStride,
                             Tensor w, MemorySegment y, long yStride, float eps) {
        float[] g = new float[dim];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < dim; i++) {
                float v = get(x, r * xStride + i);
                g[i] = z == null ? v : v * silu(get(z, r * zStride + i));
            }
            for (int g0 = 0; g0 < dim; g0 += groupSize) {
                double ss = 0;
                for (int i = g0; i < g0 + groupSize; i++) ss += g[i] * g[i];
                float inv = (float) (1 / Math.sqrt(ss / groupSize + eps));
                for (int i = g0; i < g0 + groupSize; i++) set(y, r * yStride + i, g[i] * inv * w.getFloat(i));
            }
        }
    }

    @Override
    public void conv1d(int batch, int seqlen, int channels, int width, MemorySegment x, long xStrideB, long xStrideT, Tensor w,
                       Tensor bias, MemorySegment convState, int[] slots, MemorySegment y, long yStrideB, long yStrideT,
                       boolean silu) {
        int hist = width - 1;
        float[] window = new float[(hist + seqlen)];
        for (int b = 0; b < batch; b++) {
            long stateBase = convState == null ? -1 : (long) (slots == null ? b : slots[b]) * hist * channels;
            for (int c = 0; c < channels; c++) {
                // window = [K-1 previous inputs, then this call's L inputs] of channel c
                for (int j = 0; j < hist; j++) window[j] = convState == null ? 0f : get(convState, stateBase + (long) j * channels + c);
                for (int t = 0; t < seqlen; t++) window[hist + t] = get(x, b * xStrideB + t * xStrideT + c);
                for (int t = 0; t < seqlen; t++) {
                    float acc = bias == null ? 0f : bias.getFloat(c);
                    for (int kk = 0; kk < width; kk++) acc += w.getFloat((long) c * width + kk) * window[t + kk];
                    set(y, b * yStrideB + t * yStrideT + c, silu ? silu(acc) : acc);
                }
                if (convState != null)
                    for (int j = 0; j < hist; j++) set(convState, stateBase + (long) j * channels + c, window[seqlen + j]);
            }
        }
    }

    private static float at(Strided s, int b, int t, long i) {
        return get(s.data(), b * s.strideB() + t * s.strideT() + i);
    }

    @Override
    public void selectiveScan(int batch, int seqlen, int inner, int state, Strided u, Strided dt, Tensor dtBias, Tensor aLog,
                              Strided bm, Strided cm, Tensor d, Strided z, MemorySegment ssmState, int[] slots, Strided y) {
        float[] h = new float[state];
        for (int b = 0; b < batch; b++) {
            long base = (long) (slots == null ? b : slots[b]) * inner * state;
            for (int e = 0; e < inner; e++) {
                for (int n = 0; n < state; n++) h[n] = ssmState == null ? 0f : get(ssmState, base + (long) e * state + n);
                for (int t = 0; t < seqlen; t++) {
                    float delta = softplus(at(dt, b, t, e) + (dtBias == null ? 0f : dtBias.getFloat(e)));
                    float ue = at(u, b, t, e);
                    float acc = 0;
                    for (int n = 0; n < state; n++) {
                        float a = (float) -Math.exp(aLog.getFloat((long) e * state + n));
                        h[n] = (float) Math.exp(delta * a) * h[n] + delta * at(bm, b, t, n) * ue;
                        acc += at(cm, b, t, n) * h[n];
                    }
                    float out = acc + (d == null ? 0f : d.getFloat(e)) * ue;
                    if (z != null) out *= silu(at(z, b, t, e));
                    set(y.data(), b * y.strideB() + t * y.strideT() + e, out);
                }
                if (ssmState != null) for (int n = 0; n < state; n++) set(ssmState, base + (long) e * state + n, h[n]);
            }
        }
    }

    @Override
    public void ssd(int batch, int seqlen, int heads, int headDim, int groups, int state, int chunkSize, Strided x, Strided dt,
                    Tensor dtBias, Tensor aLog, Strided bm, Strided cm, Tensor d, Strided z, float dtMin, float dtMax,
                    MemorySegment ssmState, int[] slots, Strided y) {
        int headsPerGroup = heads / groups;
        float[] s = new float[headDim * state];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                long base = ((long) (slots == null ? b : slots[b]) * heads + h) * headDim * state;
                for (int i = 0; i < s.length; i++) s[i] = ssmState == null ? 0f : get(ssmState, base + i);
                int g = h / headsPerGroup;
                float a = (float) -Math.exp(aLog.getFloat(h));
                for (int t = 0; t < seqlen; t++) {
                    float delta = softplus(at(dt, b, t, h) + (dtBias == null ? 0f : dtBias.getFloat(h)));
                    delta = Math.max(delta, dtMin);
                    if (dtMax > 0 && delta > dtMax) delta = dtMax;
                    float decay = (float) Math.exp(delta * a);
                    for (int p = 0; p < headDim; p++) {
                        float xp = at(x, b, t, (long) h * headDim + p);
                        float acc = 0;
                        for (int n = 0; n < state; n++) {
                            int i = p * state + n;
                            s[i] = decay * s[i] + delta * xp * at(bm, b, t, (long) g * state + n);
                            acc += s[i] * at(cm, b, t, (long) g * state + n);
                        }
                        float out = acc + (d == null ? 0f : d.getFloat(h)) * xp;
                        if (z != null) out *= silu(at(z, b, t, (long) h * headDim + p));
                        set(y.data(), b * y.strideB() + t * y.strideT() + (long) h * headDim + p, out);
                    }
                }
                if (ssmState != null) for (int i = 0; i < s.length; i++) set(ssmState, base + i, s[i]);
            }
        }
    }

    /** inv_freq[i] = theta^(-2i/rotaryDim), then llama3 scaling (as HF's _compute_llama3_parameters). */
    static float[] inverseFrequencies(Mixer.Rope rope) {
        int half = rope.rotaryDim() / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) inv[i] = (float) (1.0 / Math.pow(rope.theta(), (2.0 * i) / rope.rotaryDim()));
        Mixer.Llama3 l = rope.llama3();
        if (l != null) {
            double lowWavelen = l.originalMaxPosition() / l.lowFreqFactor();
            double highWavelen = l.originalMaxPosition() / l.highFreqFactor();
            for (int i = 0; i < half; i++) {
                double wavelen = 2 * Math.PI / inv[i];
                if (wavelen > lowWavelen) inv[i] = inv[i] / l.factor();
                else if (wavelen >= highWavelen) {
                    double smooth = (l.originalMaxPosition() / wavelen - l.lowFreqFactor()) / (l.highFreqFactor() - l.lowFreqFactor());
                    inv[i] = (float) ((1 - smooth) * inv[i] / l.factor() + smooth * inv[i]);
                }
            }
        }
        return inv;
    }

    @Override
    public void rope(int batch, int seqlen, int qHeads, int kvHeads, int headDim, Mixer.Rope rope, Strided q, Strided k,
                     int[] startPos) {
        float[] inv = inverseFrequencies(rope);
        int half = rope.rotaryDim() / 2;
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < seqlen; t++) {
                int pos = (startPos == null ? 0 : startPos[b]) + t;
                for (int i = 0; i < half; i++) {
                    float angle = pos * inv[i];
                    float cos = (float) Math.cos(angle), sin = (float) Math.sin(angle);
                    rotate(q, b, t, qHeads, headDim, i, half, cos, sin);
                    if (k != null) rotate(k, b, t, kvHeads, headDim, i, half, cos, sin);
                }
            }
    }

    private static void rotate(Strided s, int b, int t, int heads, int headDim, int i, int half, float cos, float sin) {
        for (int h = 0; h < heads; h++) {
            long o = b * s.strideB() + t * s.strideT() + (long) h * headDim;
            float x1 = get(s.data(), o + i), x2 = get(s.data(), o + i + half);
            set(s.data(), o + i, x1 * cos - x2 * sin);
            set(s.data(), o + i + half, x2 * cos + x1 * sin);
        }
    }

    @Override
    public void attention(int batch, int seqlen, int qHeads, int kvHeads, int headDim, int capacity, Strided q, Strided k,
                          Strided v, MemorySegment kCache, MemorySegment vCache, int[] slots, int[] startPos, Strided out,
                          float scale) {
        if (scale <= 0) scale = (float) (1 / Math.sqrt(headDim));
        int rep = qHeads / kvHeads;
        long rowElems = (long) kvHeads * headDim;
        for (int b = 0; b < batch; b++) {
            int start = startPos == null ? 0 : startPos[b];
            if (start + seqlen > capacity)
                throw new IllegalArgumentException("attention: positions " + start + ".." + (start + seqlen)
                        + " exceed the cache capacity " + capacity);
            long cacheBase = (long) (slots == null ? b : slots[b]) * capacity * rowElems;
            for (int t = 0; t < seqlen; t++)
                for (long i = 0; i < rowElems; i++) {
                    set(kCache, cacheBase + (start + t) * rowElems + i, at(k, b, t, i));
                    set(vCache, cacheBase + (start + t) * rowElems + i, at(v, b, t, i));
                }
            double[] score = new double[start + seqlen];
            for (int t = 0; t < seqlen; t++) {
                int p = start + t;
                for (int h = 0; h < qHeads; h++) {
                    int kh = h / rep;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= p; j++) {
                        double dot = 0;
                        long kb = cacheBase + j * rowElems + (long) kh * headDim;
                        for (int i = 0; i < headDim; i++) dot += at(q, b, t, (long) h * headDim + i) * get(kCache, kb + i);
                        score[j] = dot * scale;
                        max = Math.max(max, score[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= p; j++) sum += score[j] = Math.exp(score[j] - max);
                    for (int i = 0; i < headDim; i++) {
                        double acc = 0;
                        for (int j = 0; j <= p; j++) acc += score[j] * get(vCache, cacheBase + j * rowElems + (long) kh * headDim + i);
                        set(out.data(), b * out.strideB() + t * out.strideT() + (long) h * headDim + i, (float) (acc / sum));
                    }
                }
            }
        }
    }

    @Override
    public void activation(int rows, int dim, Mixer.Activation kind, MemorySegment gate, long gateStride, MemorySegment up,
                           long upStride, MemorySegment y, long yStride) {
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < dim; i++) {
                float g = get(gate, r * gateStride + i);
                float v = switch (kind) {
                    case SILU_GATE -> silu(g) * get(up, r * upStride + i);
                    case RELU2 -> g > 0 ? g * g : 0f;
                };
                set(y, r * yStride + i, v);
            }
    }

    @Override
    public void embedding(int count, int[] ids, Tensor table, MemorySegment out, long outStride) {
        int vocab = (int) table.dim(0), dim = (int) table.dim(1);
        for (int i = 0; i < count; i++) {
            if (ids[i] < 0 || ids[i] >= vocab)
                throw new IllegalArgumentException("token id " + ids[i] + " at position " + i + " is outside the vocabulary [0, "
                        + vocab + ")");
            for (int j = 0; j < dim; j++) set(out, i * outStride + j, table.getFloat((long) ids[i] * dim + j));
        }
    }
}
