package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.scijava.nativelib.NativeLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds and loads libmamba4j, once per JVM. Order:
 * <ol>
 * <li>an explicit path from the system property {@value #PATH_PROPERTY} or the environment
 *     variable {@value #PATH_ENV} (an explicit path that does not load is an error, never skipped);
 * <li>the library inside a mamba4j native jar on the class path
 *     ({@code natives/<dir>/<file>}, see {@link NativePlatform}), extracted by native-lib-loader;
 *     with several (CPU and CUDA builds, or mamba4j-natives-all) the CUDA build when an NVIDIA
 *     driver is present, else the CPU build;
 * <li>the platform's native jar of this release from the cache, downloaded first if needed
 *     and allowed ({@link NativeDownloader}: repository, cache and offline settings).
 * </ol>
 * The system property / environment variable {@value #CLASSIFIER_PROPERTY} /
 * {@value #CLASSIFIER_ENV} names the one native jar to use (for example
 * {@code linux-x86_64-cuda}) instead of choosing. The library is loaded with
 * {@link System#load}, so the generated bindings find its symbols through this class loader.
 */
public final class NativeLibrary {
    public static final String PATH_PROPERTY = "mamba4j.library.path";
    public static final String PATH_ENV = "MAMBA4J_LIBRARY_PATH";
    public static final String CLASSIFIER_PROPERTY = "mamba4j.classifier";
    public static final String CLASSIFIER_ENV = "MAMBA4J_CLASSIFIER";
    private static final String NAME = "mamba4j";
    private static final Logger log = LoggerFactory.getLogger(NativeLibrary.class);
    private static Path loaded;

    private NativeLibrary() {}

    /** Loads the library if needed and returns where it came from. */
    public static synchronized Path load() {
        if (loaded != null) return loaded;
        String property = System.getProperty(PATH_PROPERTY);
        String env = System.getenv(PATH_ENV);
        Path path;
        if (property != null && !property.isBlank()) {
            path = explicit(property, "system property " + PATH_PROPERTY);
        } else if (env != null && !env.isBlank()) {
            path = explicit(env, "environment variable " + PATH_ENV);
        } else {
            path = find();
        }
        System.load(path.toString());
        checkAbi(path);
        log.debug("loaded libmamba4j {} from {}", version(), path);
        loaded = path;
        return path;
    }

    /** The classifier of the native jar this JVM would use first, such as {@code linux-x86_64}, or "unsupported". */
    public static String platform() {
        try {
            List<NativePlatform> c = candidates();
            return c.isEmpty() ? "unsupported" : c.get(0).classifier();
        } catch (UnsatisfiedLinkError e) {
            return "unsupported";
        }
    }

    private static Path explicit(String value, String source) {
        Path p = Path.of(value).toAbsolutePath();
        if (!Files.isRegularFile(p))
            throw new UnsatisfiedLinkError("libmamba4j: " + source + " names " + p + ", which is not a file");
        return p;
    }

    /** The native jars that fit this JVM, best first, or only the one {@value #CLASSIFIER_PROPERTY} names. */
    private static List<NativePlatform> candidates() {
        Optional<String> chosen = NativeDownloader.setting(CLASSIFIER_PROPERTY, CLASSIFIER_ENV).filter(s -> !s.isBlank());
        if (chosen.isPresent()) {
            NativePlatform p = NativePlatform.byClassifier(chosen.get().trim()).orElseThrow(() -> new UnsatisfiedLinkError(
                    "libmamba4j: " + CLASSIFIER_PROPERTY + "=" + chosen.get() + " is not a mamba4j classifier; known: "
                            + NativePlatform.knownClassifiers()));
            return List.of(p);
        }
        return NativePlatform.candidates();
    }

    private static Path find() {
        List<String> tried = new ArrayList<>();
        tried.add("system property " + PATH_PROPERTY + " (not set)");
        tried.add("environment variable " + PATH_ENV + " (not set)");
        List<NativePlatform> candidates = candidates();
        String host = NativePlatform.describeHost();
        if (candidates.isEmpty())
            throw new UnsatisfiedLinkError("libmamba4j: mamba4j has no native library for " + host
                    + "; native jars exist for " + NativePlatform.knownClassifiers() + ". Build libmamba4j yourself"
                    + " (native/, CMake) and set " + PATH_PROPERTY + " to it.");
        for (NativePlatform p : candidates) {
            Path path = fromClassPath(p, tried);
            if (path != null) return path;
        }
        NativePlatform first = candidates.get(0);
        NativeRelease release = null;
        try {
            release = NativeRelease.current();
            if (!release.ships(first.classifier())) {
                // a CUDA host may still use the CPU build, if this release has one
                for (NativePlatform p : candidates) {
                    if (release.ships(p.classifier())) {
                        first = p;
                        break;
                    }
                }
            }
            NativeDownloader.Request request = NativeDownloader.configured(first, release);
            Path path = NativeDownloader.fetch(request);
            log.debug("libmamba4j {} {}: using {}", release.version(), first.classifier(), path);
            return path;
        } catch (NativeDownloader.Failure | RuntimeException e) {
            tried.add("download of the " + first.classifier() + " jar"
                    + (release == null ? "" : " of mamba4j " + release.version()) + ": " + e.getMessage());
        }
        throw new UnsatisfiedLinkError("libmamba4j could not be loaded for platform " + first.classifier() + " on "
                + host + ". Tried:\n  - " + String.join("\n  - ", tried)
                + "\nAdd the mamba4j-native jar of this platform (classifier " + first.classifier()
                + ") to the class path, let mamba4j download it (set " + NativeDownloader.REPOSITORY_PROPERTY
                + "), or set " + PATH_PROPERTY + " to the library file.");
    }

    private static Path fromClassPath(NativePlatform p, List<String> tried) {
        String dir = "natives/" + p.dir() + "/";
        String resource = p.entry();
        try {
            if (NativeLibrary.class.getClassLoader().getResource(resource) != null) {
                File extracted = NativeLoader.getJniExtractor().extractJni(dir, NAME);
                if (extracted != null) return extracted.toPath();
                tried.add("class path resource " + resource + " (found, but extraction failed)");
            } else {
                tried.add("class path resource " + resource + " (no mamba4j-native " + p.classifier()
                        + " jar on the class path)");
            }
        } catch (Exception | LinkageError e) {
            tried.add("class path resource " + resource + " (" + e + ")");
        }
        return null;
    }

    private static void checkAbi(Path path) {
        int abi = Mamba4jH.mamba4j_abi_version();
        if (abi != Mamba4jH.MAMBA4J_ABI_VERSION())
            throw new UnsatisfiedLinkError("libmamba4j at " + path + " has ABI version " + abi
                    + " but these bindings expect " + Mamba4jH.MAMBA4J_ABI_VERSION()
                    + ": use the native jar of the same mamba4j release");
    }

    static String version() {
        return Mamba4jH.mamba4j_version().reinterpret(Long.MAX_VALUE).getString(0);
    }
}
