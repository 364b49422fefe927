package io.github.mamba4j.runtime.model;

import io.github.mamba4j.runtime.config.Mixer;
import io.github.mamba4j.runtime.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Mamba-1: xz = in_proj(xn) [B·L, 2E] (x then z); xc = silu(conv1d(x)); (dt_low, B, C) =
 * x_proj(xc) [rank + 2N]; dt = dt_proj(dt_low) (its bias is the scan's dt_bias, softplus
 * inside); y = selective_scan(xc, dt, A, B, C, D) ⊙ silu(z); residual += out_proj(y).
 */
public record Mamba1Mixer(Mixer.Mamba1 spec, int hidden, Tensor inProj, Tensor inBias, Tensor convW, Tensor convB,
                          Tensor xProj, Tensor dtProj, Tensor dtBias, Tensor aLog, Tensor d, Tensor outProj, Tensor outBias)
        implements Layer {

    @Override
    public void forward(Step s, MemorySegment xn, MemorySegment residual, LayerCache cache) {
        var k = s.kernels();
        var c = (LayerCache.Ssm) cache;
        int rows = s.rows(), L = s.seqlen(), D = hidden, E = spec.inner(), N = spec.state(), R = spec.dtRank();
        int dbcWidth = R + 2 * N;
        MemorySegment xz = s.floats((long) rows * 2 * E);
        k.matmul(rows, 2 * E, D, xn, D, inProj, inBias, xz, 2 * E, false);
        MemorySegment xc = s.floats((long) rows * E);
        k.conv1d(s.batch(), L, E, spec.convWidth(), xz, (long) L * 2 * E, 2 * E, convW, convB, c.conv(), s.slots(), xc,
                (long) L * E, E, true);
        MemorySegment dbc = s.floats((long) rows * dbcWidth);
        k.matmul(rows, dbcWidth, E, xc, E, xProj, null, dbc, dbcWidth, false);
        MemorySegment dt = s.floats((long) rows * E);
        k.matmul(rows, E, R, dbc, dbcWidth, dtProj, null, dt, E, false);
        MemorySegment y = s.floats((long) rows * E);
        long dbcB = (long) L * dbcWidth;
        k.selectiveScan(s.batch(), L, E, N, new Kernels.Strided(xc, (long) L * E, E), new Kernels.Strided(dt, (long) L * E, E),
                dtBias, aLog, new Kernels.Strided(dbc.asSlice((long) R * Float.BYTES), dbcB, dbcWidth),
                new Kernels.Strided(dbc.asSlice((long) (R + N) * Float.BYTES), dbcB, dbcWidth), d,
                new Kernels.Strided(xz.asSlice((long) E * Float.BYTES), (long) L * 2 * E, 2 * E), c.ssm(), s.slots(),
                new Kernels.Strided(y, (long) L * E, E));
        k.matmul(rows, D, E, y, E, outProj, outBias, residual, D, true);
    }

    @Override
    public LayerCache newCache(Arena arena, int slots, int capacity) {
        long conv = (long) (spec.convWidth() - 1) * spec.inner(), ssm = (long) spec.inner() * spec.state();
        return new LayerCache.Ssm(arena.allocate(slots * conv * Float.BYTES, 64), conv,
                arena.allocate(slots * ssm * Float.BYTES, 64), ssm);
    }
}
