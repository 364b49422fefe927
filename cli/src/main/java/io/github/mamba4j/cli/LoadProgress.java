package io.github.mamba4j.cli;

import io.github.mamba4j.runtime.model.Model;
import java.io.PrintStream;

/**
 * Reads a model's weights in with a progress bar on stderr, for checkpoints large enough
 * that this takes a noticeable time (the weights are memory-mapped: without this the first
 * tokens would pay for it in page faults, with no feedback).
 */
final class LoadProgress {
    private static final long SHOW_FROM_BYTES = 256L << 20;
    private static final int WIDTH = 30;

    private LoadProgress() {}

    static void prefetch(Model model, PrintStream err) {
        long total = model.checkpointBytes();
        if (total < SHOW_FROM_BYTES) {
            model.prefetch((done, all) -> {});
            return;
        }
        int[] last = {-1};
        model.prefetch((done, all) -> {
            int percent = (int) (100 * done / all);
            if (percent == last[0]) return;
            last[0] = percent;
            int filled = percent * WIDTH / 100;
            err.printf("\rloading weights [%s%s] %3d%%  %s / %s", "#".repeat(filled), ".".repeat(WIDTH - filled), percent,
                    Bytes.human(done), Bytes.human(all));
            err.flush();
        });
        err.println();
    }
}
