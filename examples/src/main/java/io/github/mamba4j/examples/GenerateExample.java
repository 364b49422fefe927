package io.github.mamba4j.examples;

import io.github.mamba4j.runtime.generate.Generator;
import io.github.mamba4j.runtime.generate.SamplingParams;
import io.github.mamba4j.runtime.model.Model;
import io.github.mamba4j.runtime.model.Session;
import io.github.mamba4j.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Loads a checkpoint folder and generates from a prompt with the Java API.
 * Usage: GenerateExample [MODEL_DIR] [PROMPT]   (default: the tiny model in examples/models)
 */
public final class GenerateExample {
    public static void main(String[] args) {
        Path dir = Path.of(args.length > 0 ? args[0] : "examples/models/tiny-hybrid");
        String prompt = args.length > 1 ? args[1] : "The quick brown fox";
        System.out.println(generate(dir, prompt, 24).text());
    }

    record Generated(String text, int[] tokens) {}

    static Generated generate(Path dir, String prompt, int maxTokens) {
        Tokenizer tokenizer = Tokenizer.load(dir);
        try (Model model = Model.load(dir); Session session = model.newSession(1, 256)) {
            int[] ids = tokenizer.encode(prompt);
            Set<Integer> eos = new HashSet<>(model.config().eosTokenIds());
            SamplingParams sampling = SamplingParams.temperature(0.8f, 42).withTopP(0.95f);
            Generator.Result result = Generator.generate(session, new Generator.Request(ids, maxTokens, sampling), eos, null);
            System.out.printf("%s: %d prompt tokens, %d generated (%s); state %s%n", model.config().pattern(), ids.length,
                    result.tokens().length, result.reason(), session.memory());
            return new Generated(tokenizer.decode(result.tokens()), result.tokens());
        }
    }
}
