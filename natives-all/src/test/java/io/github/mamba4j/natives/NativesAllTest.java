package io.github.mamba4j.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mamba4j.bindings.Mamba4j;
import io.github.mamba4j.bindings.NativeLibrary;
import io.github.mamba4j.bindings.NativePlatform;
import io.github.mamba4j.bindings.NativeRelease;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** mamba4j-natives-all holds every library of the build, and the loader finds them in it. */
class NativesAllTest {
    @Test
    void holdsEveryNativeJarOfTheBuild() {
        NativeRelease release = NativeRelease.current();
        assertTrue(release.ships("linux-x86_64"), release.toString());
        for (String c : release.built()) {
            NativePlatform p = NativePlatform.byClassifier(c).orElseThrow();
            assertNotNull(getClass().getClassLoader().getResource(p.entry()), c + ": " + p.entry() + " missing");
        }
    }

    /** Each library of this machine's platform loads from the aggregate, in a fresh JVM, with downloads forbidden. */
    @Test
    void loadsEachVariantOfThisPlatform(@TempDir Path cache) throws Exception {
        String cp = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !e.contains("mamba4j-native") && !e.replace('\\', '/').contains("/native/target"))
                .collect(Collectors.joining(File.pathSeparator));
        NativeRelease release = NativeRelease.current();
        int loaded = 0;
        for (NativePlatform p : NativePlatform.candidates(System.getProperty("os.name"), System.getProperty("os.arch"), false)) {
            if (!release.ships(p.classifier())) continue;
            ProcessBuilder pb = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(),
                    "--enable-native-access=ALL-UNNAMED", "-Dmamba4j.classifier=" + p.classifier(),
                    "-Dmamba4j.offline=true", "-Dmamba4j.cache=" + cache, "-cp", cp, Probe.class.getName())
                    .redirectErrorStream(true);
            for (String env : List.of("MAMBA4J_LIBRARY_PATH", "MAMBA4J_CLASSIFIER", "MAMBA4J_REPOSITORY", "MAMBA4J_CACHE"))
                pb.environment().remove(env);
            Process proc = pb.start();
            String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            proc.waitFor();
            assertTrue(out.startsWith("loaded "), p.classifier() + ": " + out);
            assertTrue(out.contains(" version " + release.version() + " cuda " + p.cuda()), p.classifier() + ": " + out);
            loaded++;
        }
        assertTrue(loaded >= 1, "no library of this platform in the aggregate");
        assertEquals(0, cache.toFile().list() == null ? 0 : cache.toFile().list().length, "nothing may be downloaded");
    }

    public static final class Probe {
        public static void main(String[] args) {
            try {
                Path p = NativeLibrary.load();
                System.out.println("loaded " + p + " version " + Mamba4j.version() + " cuda "
                        + Mamba4j.hasBackend(io.github.mamba4j.bindings.Backend.CUDA));
            } catch (Throwable t) {
                System.out.println(t);
            }
        }
    }
}
