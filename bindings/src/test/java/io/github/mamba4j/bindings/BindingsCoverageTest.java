package io.github.mamba4j.bindings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mamba4j.bindings.generated.Mamba4jH;
import java.io.IOException;
import java.lang.foreign.SymbolLookup;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The committed bindings and the header cannot drift apart silently. */
class BindingsCoverageTest {
    private static final Pattern DECLARATION = Pattern.compile("MAMBA4J_API\\s+[^;{]*?\\b(mamba4j_\\w+)\\s*\\(");

    private static Set<String> declaredFunctions() throws IOException {
        String header = Files.readString(Path.of(System.getProperty("mamba4j.header")));
        Set<String> names = new TreeSet<>();
        Matcher m = DECLARATION.matcher(header);
        while (m.find()) names.add(m.group(1));
        return names;
    }

    @Test
    void everyDeclaredFunctionHasABinding() throws IOException {
        Set<String> declared = declaredFunctions();
        assertTrue(declared.size() >= 30, "header parse found only " + declared);
        Set<String> bound = Arrays.stream(Mamba4jH.class.getMethods())
                .filter(m -> Modifier.isStatic(m.getModifiers()))
                .map(Method::getName)
                .collect(Collectors.toSet());
        List<String> missing = declared.stream().filter(n -> !bound.contains(n)).toList();
        assertEquals(List.of(), missing, "functions in mamba4j.h without a binding: rerun bindings/jextract.sh");
    }

    @Test
    void everyBindingIsStillDeclared() throws IOException {
        Set<String> declared = declaredFunctions();
        List<String> stale = Arrays.stream(Mamba4jH.class.getMethods())
                .map(Method::getName)
                .filter(n -> n.startsWith("mamba4j_") && !n.endsWith("$handle") && !n.endsWith("$address")
                        && !n.endsWith("$descriptor") && !n.endsWith("$makeInvoker"))
                .filter(n -> !declared.contains(n))
                .distinct()
                .toList();
        assertEquals(List.of(), stale, "bindings for functions no longer in mamba4j.h: rerun bindings/jextract.sh");
    }

    @Test
    void everyDeclaredFunctionIsExportedByTheLibrary() throws IOException {
        NativeLibrary.load();
        SymbolLookup library = SymbolLookup.loaderLookup();
        List<String> missing = declaredFunctions().stream().filter(n -> library.find(n).isEmpty()).toList();
        assertEquals(List.of(), missing, "functions in mamba4j.h that libmamba4j does not export");
    }

    @Test
    void abiVersionOfLibraryMatchesBindings() {
        NativeLibrary.load();
        assertEquals(Mamba4jH.MAMBA4J_ABI_VERSION(), Mamba4jH.mamba4j_abi_version());
    }
}
