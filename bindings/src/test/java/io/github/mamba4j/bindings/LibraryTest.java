package io.github.mamba4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class LibraryTest {
    @Test
    void reportsVersionAndCapabilities() {
        assertFalse(Mamba4j.version().isBlank());
        assertTrue(Mamba4j.hasBackend(Backend.CPU));
        assertTrue(Mamba4j.simdInUse().compareTo(Mamba4j.simdSupported()) <= 0);
        assertTrue(Mamba4j.threads() >= 1);
        assertTrue(Mamba4j.cudaDeviceCount() >= 0);
    }

    @Test
    void badSettingsGiveNativeMessages() {
        var e = assertThrows(Mamba4jException.class, () -> Mamba4j.setThreads(0));
        assertEquals("mamba4j_cpu_set_threads: threads must be > 0, got 0", e.getMessage());
    }

    @Test
    void cudaWithoutGpuSaysSo() {
        if (Mamba4j.cudaDeviceCount() > 0) return; // covered by ci/gpu-test.sh on a GPU host
        var e = assertThrows(Mamba4jException.class, () -> Context.cuda(0));
        assertNotEquals(Status.OK, e.status());
        assertTrue(e.getMessage().contains(Mamba4j.hasBackend(Backend.CUDA) ? "no CUDA device" : "without the CUDA"),
                e.getMessage());
    }

    /** Runs a fresh JVM that loads the library, with the given class path and extra options. */
    private static String loadInFreshJvm(String classPath, String... options) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(Arrays.asList(options));
        cmd.addAll(List.of("-cp", classPath, LoadProbe.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove(NativeLibrary.PATH_ENV);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    @Test
    void missingNativeJarNamesPlatformAndPlacesTried() throws Exception {
        String cp = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !e.contains("mamba4j-native") && !e.replace('\\', '/').contains("native/target"))
                .collect(Collectors.joining(File.pathSeparator));
        String out = loadInFreshJvm(cp);
        assertTrue(out.contains("could not be loaded for platform " + NativeLibrary.platform()), out);
        assertTrue(out.contains("system property mamba4j.library.path (not set)"), out);
        assertTrue(out.contains("natives/" + NativeLibrary.platform() + "/libmamba4j.so"), out);
    }

    @Test
    void explicitPathThatIsNotAFileIsAnError() throws Exception {
        String out = loadInFreshJvm(System.getProperty("java.class.path"), "-Dmamba4j.library.path=/nonexistent/libx.so");
        assertTrue(out.contains("system property mamba4j.library.path names /nonexistent/libx.so, which is not a file"),
                out);
    }

    @Test
    void explicitPathLoads() throws Exception {
        String lib = NativeLibrary.load().toString();
        String out = loadInFreshJvm(System.getProperty("java.class.path"), "-Dmamba4j.library.path=" + lib);
        assertTrue(out.contains("loaded from " + lib), out);
    }

    /** Entry point of the fresh JVMs above. */
    public static final class LoadProbe {
        public static void main(String[] args) {
            try {
                System.out.println("loaded from " + NativeLibrary.load() + " version " + Mamba4j.version());
            } catch (Throwable t) {
                System.out.println(t);
            }
        }
    }
}
