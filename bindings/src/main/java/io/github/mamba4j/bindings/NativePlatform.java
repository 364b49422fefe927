package io.github.mamba4j.bindings;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * One kind of native jar: its Maven classifier and where the library lies inside it,
 * {@code natives/<dir>/<file>}. The directory names are native-lib-loader's platform names
 * ({@code linux_64}, {@code linux_arm64}, ...), with {@code _cuda} for the CUDA build, so the
 * CPU and CUDA jars (and the all-platforms jar) can share one class path. native/pom.xml
 * builds the jars with this same table (NativePlatformTest checks the two agree).
 *
 * @param classifier the Maven classifier of mamba4j-native, such as {@code linux-x86_64-cuda}
 * @param os {@code linux}, {@code osx} or {@code windows}
 * @param arch {@code x86_64} or {@code aarch64}
 * @param dir the directory under {@code natives/} inside the jar
 * @param file the library's file name
 * @param cuda whether this build carries the CUDA backend (and the CPU one)
 */
public record NativePlatform(String classifier, String os, String arch, String dir, String file, boolean cuda) {

    /** Every classifier the loader knows, whether or not this release ships it. */
    public static final List<NativePlatform> KNOWN = List.of(
            new NativePlatform("linux-x86_64", "linux", "x86_64", "linux_64", "libmamba4j.so", false),
            new NativePlatform("linux-x86_64-cuda", "linux", "x86_64", "linux_64_cuda", "libmamba4j.so", true),
            new NativePlatform("linux-aarch64", "linux", "aarch64", "linux_arm64", "libmamba4j.so", false),
            new NativePlatform("osx-aarch64", "osx", "aarch64", "osx_arm64", "libmamba4j.dylib", false),
            new NativePlatform("windows-x86_64", "windows", "x86_64", "windows_64", "mamba4j.dll", false));

    /** The library's path inside the jar (and on the class path). */
    public String entry() {
        return "natives/" + dir + "/" + file;
    }

    public static Optional<NativePlatform> byClassifier(String classifier) {
        return KNOWN.stream().filter(p -> p.classifier.equals(classifier)).findFirst();
    }

    /** {@code linux}, {@code osx}, {@code windows}, or the lower-cased os.name when it is none of those. */
    public static String normalizeOs(String osName) {
        String os = osName.toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) return "linux";
        if (os.startsWith("mac") || os.startsWith("darwin")) return "osx";
        if (os.startsWith("windows")) return "windows";
        return os.replace(' ', '_');
    }

    /** {@code x86_64}, {@code aarch64}, or the lower-cased os.arch when it is neither. */
    public static String normalizeArch(String osArch) {
        String arch = osArch.toLowerCase(Locale.ROOT);
        return switch (arch) {
            case "amd64", "x86_64", "x64", "x86-64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
    }

    /**
     * The jars that can serve this machine, best first: with an NVIDIA driver present the
     * CUDA build before the CPU one, otherwise the CPU build first (the CUDA build also runs
     * without a GPU, on its CPU backend). Empty when mamba4j has no build for os and arch.
     */
    public static List<NativePlatform> candidates(String osName, String osArch, boolean nvidiaDriver) {
        String os = normalizeOs(osName), arch = normalizeArch(osArch);
        List<NativePlatform> list = new ArrayList<>(
                KNOWN.stream().filter(p -> p.os.equals(os) && p.arch.equals(arch)).toList());
        list.sort((a, b) -> Boolean.compare(nvidiaDriver ? b.cuda : a.cuda, nvidiaDriver ? a.cuda : b.cuda));
        return List.copyOf(list);
    }

    /** {@link #candidates(String, String, boolean)} for this JVM. */
    public static List<NativePlatform> candidates() {
        return candidates(System.getProperty("os.name"), System.getProperty("os.arch"), nvidiaDriverPresent());
    }

    /** Whether the NVIDIA kernel driver is loaded (Linux): the CUDA build is then preferred. */
    public static boolean nvidiaDriverPresent() {
        return Files.exists(Path.of("/proc/driver/nvidia/version"));
    }

    /** Human-readable name of this JVM's platform, such as {@code linux x86_64 (os.name=Linux, os.arch=amd64)}. */
    public static String describeHost() {
        return normalizeOs(System.getProperty("os.name")) + " " + normalizeArch(System.getProperty("os.arch"))
                + " (os.name=" + System.getProperty("os.name") + ", os.arch=" + System.getProperty("os.arch") + ")";
    }

    static String knownClassifiers() {
        return KNOWN.stream().map(NativePlatform::classifier).collect(Collectors.joining(", "));
    }
}
