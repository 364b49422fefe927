package io.github.mamba4j.bindings;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.scijava.nativelib.NativeLibraryUtil;
import org.scijava.nativelib.NativeLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds and loads libmamba4j, once per JVM. Order: an explicit path from the system
 * property {@value #PATH_PROPERTY} or the environment variable {@value #PATH_ENV} (an
 * explicit path that does not load is an error, never skipped); otherwise the library
 * inside a mamba4j native jar on the class path ({@code natives/<platform>/}), extracted
 * by native-lib-loader. The library is loaded with {@link System#load}, so the generated
 * bindings find its symbols through this class loader.
 */
public final class NativeLibrary {
    public static final String PATH_PROPERTY = "mamba4j.library.path";
    public static final String PATH_ENV = "MAMBA4J_LIBRARY_PATH";
    private static final String NAME = "mamba4j";
    private static final Logger log = LoggerFactory.getLogger(NativeLibrary.class);
    private static Path loaded;

    private NativeLibrary() {}

    /** Loads the library if needed and returns where it came from. */
    public static synchronized Path load() {
        if (loaded != null) return loaded;
        List<String> tried = new ArrayList<>();
        String property = System.getProperty(PATH_PROPERTY);
        String env = System.getenv(PATH_ENV);
        Path path;
        if (property != null && !property.isBlank()) {
            path = explicit(property, "system property " + PATH_PROPERTY);
        } else if (env != null && !env.isBlank()) {
            path = explicit(env, "environment variable " + PATH_ENV);
        } else {
            tried.add("system property " + PATH_PROPERTY + " (not set)");
            tried.add("environment variable " + PATH_ENV + " (not set)");
            path = fromClassPath(tried);
        }
        System.load(path.toString());
        checkAbi(path);
        log.debug("loaded libmamba4j {} from {}", version(), path);
        loaded = path;
        return path;
    }

    /** The platform name native-lib-loader uses for this JVM, such as {@code linux_64}. */
    public static String platform() {
        return NativeLibraryUtil.getArchitecture().name().toLowerCase(Locale.ROOT);
    }

    private static Path explicit(String value, String source) {
        Path p = Path.of(value).toAbsolutePath();
        if (!Files.isRegularFile(p))
            throw new UnsatisfiedLinkError("libmamba4j: " + source + " names " + p + ", which is not a file");
        return p;
    }

    private static Path fromClassPath(List<String> tried) {
        String dir = NativeLibraryUtil.getPlatformLibraryPath(NativeLibraryUtil.DEFAULT_SEARCH_PATH);
        String file = System.mapLibraryName(NAME);
        String resource = dir + file;
        try {
            if (NativeLibrary.class.getClassLoader().getResource(resource) != null) {
                File extracted = NativeLoader.getJniExtractor().extractJni(dir, NAME);
                if (extracted != null) return extracted.toPath();
                tried.add("class path resource " + resource + " (found, but extraction failed)");
            } else {
                tried.add("class path resource " + resource + " (no mamba4j native jar for this platform on the class path)");
            }
        } catch (Exception | LinkageError e) {
            tried.add("class path resource " + resource + " (" + e + ")");
        }
        throw new UnsatisfiedLinkError("libmamba4j could not be loaded for platform " + platform() + " (os.name="
                + System.getProperty("os.name") + ", os.arch=" + System.getProperty("os.arch") + "). Tried:\n  - "
                + String.join("\n  - ", tried)
                + "\nAdd the mamba4j-native jar of this platform to the class path, or set " + PATH_PROPERTY
                + " to the library file.");
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
