package io.github.mamba4j.runtime.model;

import org.junit.jupiter.api.AfterAll;

/** The parity tables of {@link ParityTest} on libmamba4j's CPU kernels. */
class NativeParityTest extends ParityTest {
    private static final NativeKernels NATIVE = new NativeKernels();

    @Override
    Kernels kernels() {
        return NATIVE;
    }

    @AfterAll
    static void closeContext() {
        NATIVE.close();
    }
}
