package io.github.mamba4j.examples;

import io.github.mamba4j.runtime.generate.Generator;
import io.github.mamba4j.runtime.generate.SamplingParams;
import io.github.mamba4j.runtime.model.Model;
import io.github.mamba4j.runtime.model.Session;
import io.github.mamba4j.tokenizer.StreamDecoder;
import io.github.mamba4j.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Set;

/**
 * Streams tokens to a callback as they are generated and stops early: here after
 * {@code stopAfter} tokens (a real program would stop on a stop string or a user's cancel).
 * Usage: StreamExample [MODEL_DIR] [STOP_AFTER]
 */
public final class StreamExample {
    public static void main(String[] args) {
        Path dir = Path.of(args.length > 0 ? args[0] : "examples/models/tiny-hybrid");
        int stopAfter = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        Generator.Result r = stream(dir, "Once upon a time", stopAfter);
        System.out.printf("%n[%d tokens, %s]%n", r.tokens().length, r.reason());
    }

    static Generator.Result stream(Path dir, String prompt, int stopAfter) {
        Tokenizer tokenizer = Tokenizer.load(dir);
        StreamDecoder text = tokenizer.streamDecoder(true); // never splits a UTF-8 character
        try (Model model = Model.load(dir); Session session = model.newSession(1, 256)) {
            int[] count = {0};
            Generator.Result r = Generator.generate(session,
                    new Generator.Request(tokenizer.encode(prompt), 100, SamplingParams.temperature(1.0f, 7)),
                    Set.of(), // no end-of-sequence token: only the callback stops it
                    (request, token) -> {
                        System.out.print(text.step(token));
                        System.out.flush();
                        return ++count[0] < stopAfter; // false: stop here
                    });
            System.out.print(text.flush());
            return r;
        }
    }
}
