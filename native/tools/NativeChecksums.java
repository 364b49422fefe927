// Build step of mamba4j-native (run by exec-maven-plugin in the package phase, as a Java
// source-file program): writes target/natives.properties with the release's coordinates,
// the classifiers the loader knows, and the SHA-256 and size of every native jar this build
// made. The bindings module copies the file into its jar; NativeDownloader checks downloaded
// native jars against it.
//
// Usage: java NativeChecksums.java <target dir> <groupId> <artifactId> <version> <known classifiers, comma separated>
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

public class NativeChecksums {
    public static void main(String[] args) throws Exception {
        if (args.length != 5)
            throw new IllegalArgumentException("usage: NativeChecksums <target dir> <groupId> <artifactId> <version> <known classifiers>");
        Path target = Path.of(args[0]);
        String groupId = args[1], artifactId = args[2], version = args[3];
        List<String> built = new ArrayList<>();
        StringBuilder sums = new StringBuilder();
        for (String classifier : args[4].split(",")) {
            Path jar = target.resolve(artifactId + "-" + version + "-" + classifier + ".jar");
            if (!Files.isRegularFile(jar)) continue;
            built.add(classifier);
            sums.append("sha256.").append(classifier).append('=').append(sha256(jar)).append('\n');
            sums.append("size.").append(classifier).append('=').append(Files.size(jar)).append('\n');
        }
        if (built.isEmpty()) throw new IllegalStateException("no native jar found in " + target);
        String text = "# Written by native/tools/NativeChecksums.java: the native jars of this mamba4j build\n"
                + "groupId=" + groupId + "\nartifactId=" + artifactId + "\nversion=" + version + "\n"
                + "known=" + args[4] + "\nbuilt=" + String.join(",", built) + "\n" + sums;
        Path out = target.resolve("natives.properties");
        Path tmp = Files.createTempFile(target, "natives", ".tmp");
        Files.writeString(tmp, text, StandardCharsets.ISO_8859_1);
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.out.print("[natives] " + out + ":\n" + text);
    }

    static String sha256(Path file) throws IOException, java.security.NoSuchAlgorithmException {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
