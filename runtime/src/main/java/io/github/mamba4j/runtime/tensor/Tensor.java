package io.github.mamba4j.runtime.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * An off-heap tensor: dtype, shape, strides (in elements, row-major, innermost stride 1)
 * and the memory that holds it. The memory belongs to an {@link Arena} (the model's, the
 * session's, or a mapped checkpoint file's): closing that arena ends the tensor, and any
 * later access fails with {@link IllegalStateException} instead of crashing the JVM.
 */
public record Tensor(String name, DType dtype, long[] shape, long[] strides, MemorySegment data) {

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED;

    public Tensor {
        shape = shape.clone();
        strides = strides.clone();
        if (shape.length != strides.length) throw new IllegalArgumentException("shape and strides differ in rank");
        long needed = Math.multiplyExact(numel(shape), (long) dtype.bytes());
        if (data.byteSize() < needed)
            throw new IllegalArgumentException(name + ": " + data.byteSize() + " bytes cannot hold " + Arrays.toString(shape)
                    + " " + dtype);
    }

    /** A contiguous tensor over {@code data}. */
    public static Tensor of(String name, DType dtype, long[] shape, MemorySegment data) {
        return new Tensor(name, dtype, shape, contiguousStrides(shape), data);
    }

    /** A new zeroed contiguous tensor owned by {@code arena} (64-byte aligned). */
    public static Tensor allocate(Arena arena, String name, DType dtype, long... shape) {
        long bytes = Math.multiplyExact(numel(shape), (long) dtype.bytes());
        return of(name, dtype, shape, arena.allocate(Math.max(bytes, 1), 64));
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public static long[] contiguousStrides(long[] shape) {
        long[] s = new long[shape.length];
        long stride = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = stride;
            stride = Math.multiplyExact(stride, Math.max(shape[i], 1));
        }
        return s;
    }

    public long numel() {
        return numel(shape);
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public long byteSize() {
        return numel() * dtype.bytes();
    }

    public boolean isContiguous() {
        return Arrays.equals(strides, contiguousStrides(shape));
    }

    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    /** Element {@code i} of the contiguous tensor as a float (F32, BF16, F16, F64, integer types). */
    public float getFloat(long i) {
        return switch (dtype) {
            case F32 -> data.getAtIndex(F32_LE, i);
            case BF16 -> Float.intBitsToFloat((data.getAtIndex(I16_LE, i) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(data.getAtIndex(I16_LE, i));
            case F64 -> (float) data.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i);
            case I64 -> data.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
            case I32 -> data.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
            case I16 -> data.getAtIndex(I16_LE, i);
            case I8 -> data.get(ValueLayout.JAVA_BYTE, i);
            case U8, BOOL -> data.get(ValueLayout.JAVA_BYTE, i) & 0xff;
            default -> throw new UnsupportedOperationException(name + ": reading " + dtype + " as float is not supported");
        };
    }

    public void setFloat(long i, float v) {
        switch (dtype) {
            case F32 -> data.setAtIndex(F32_LE, i, v);
            case BF16 -> data.setAtIndex(I16_LE, i, toBf16(v));
            case F16 -> data.setAtIndex(I16_LE, i, Float.floatToFloat16(v));
            default -> throw new UnsupportedOperationException(name + ": writing " + dtype + " is not supported");
        }
    }

    /** Round to nearest even, NaN kept a (quiet) NaN. */
    public static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    /** This tensor itself when it already is contiguous {@code target}; else a converted copy in {@code arena}. */
    public Tensor as(DType target, Arena arena) {
        if (dtype == target && isContiguous()) return this;
        if (!isContiguous()) throw new UnsupportedOperationException(name + ": converting a strided tensor");
        Tensor out = allocate(arena, name, target, shape);
        long n = numel();
        for (long i = 0; i < n; i++) out.setFloat(i, getFloat(i));
        return out;
    }

    /** The same memory seen with another shape of the same element count (contiguous only). */
    public Tensor reshape(long... newShape) {
        if (!isContiguous() || numel(newShape) != numel())
            throw new IllegalArgumentException(name + ": cannot view " + Arrays.toString(shape) + " as "
                    + Arrays.toString(newShape));
        return of(name, dtype, newShape, data);
    }

    /** Rows [from, to) of the outermost dimension: a view of the same memory (contiguous only). */
    public Tensor rows(long from, long to) {
        if (!isContiguous() || from < 0 || to > shape[0] || from > to)
            throw new IllegalArgumentException(name + ": rows " + from + ".." + to + " of " + Arrays.toString(shape));
        long row = numel() / Math.max(shape[0], 1) * dtype.bytes();
        long[] s = shape.clone();
        s[0] = to - from;
        return of(name, dtype, s, data.asSlice(from * row, (to - from) * row));
    }

    /** A copy of the contiguous tensor as a float array (tests, logits). */
    public float[] toFloatArray() {
        long n = numel();
        if (n > Integer.MAX_VALUE) throw new IllegalStateException(name + " has too many elements for an array");
        float[] out = new float[(int) n];
        for (int i = 0; i < out.length; i++) out[i] = getFloat(i);
        return out;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}
