package io.github.mamba4j.runtime.generate;

import io.github.mamba4j.runtime.model.Session;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Set;

/**
 * Prefill, then decode steps with sampling, until end-of-sequence or the token budget.
 * Several requests run batched in one session: each joins when a slot is free (prefill
 * alone), active sequences decode together, a finished one leaves and frees its slot.
 */
public final class Generator {
    private Generator() {}

    public enum StopReason { END_OF_SEQUENCE, BUDGET, STOPPED }

    public record Request(int[] prompt, int maxNewTokens, SamplingParams sampling) {
        public Request {
            if (prompt.length == 0) throw new IllegalArgumentException("empty prompt");
            if (maxNewTokens < 0) throw new IllegalArgumentException("negative token budget");
        }
    }

    /** Generated tokens (the end-of-sequence token included when it stopped generation). */
    public record Result(int[] tokens, StopReason reason) {}

    /**
     * Called for every generated token, in order per request, as soon as it is chosen.
     * Returning false stops that request there (its result ends with this token, reason
     * STOPPED); the other requests go on.
     */
    @FunctionalInterface
    public interface TokenListener {
        boolean onToken(int request, int token);
    }

    public static Result generate(Session session, Request request, Set<Integer> eos, TokenListener listener) {
        return generateAll(session, List.of(request), eos, listener).getFirst();
    }

    public static List<Result> generateAll(Session session, List<Request> requests, Set<Integer> eos, TokenListener listener) {
        final class Active {
            final int index, seq;
            final Sampler sampler;
            final List<Integer> out = new ArrayList<>();
            int last;

            Active(int index, int seq, Sampler sampler) {
                this.index = index;
                this.seq = seq;
                this.sampler = sampler;
            }
        }
        Result[] results = new Result[requests.size()];
        Deque<Integer> pending = new ArrayDeque<>();
        for (int i = 0; i < requests.size(); i++) pending.add(i);
        List<Active> active = new ArrayList<>();
        try {
            while (!pending.isEmpty() || !active.isEmpty()) {
                // join waiting requests while slots are free (at least one is running or joins now)
                while (!pending.isEmpty()) {
                    int seq;
                    try {
                        seq = session.join();
                    } catch (IllegalStateException full) {
                        if (active.isEmpty()) throw full;
                        break;
                    }
                    int i = pending.poll();
                    Request r = requests.get(i);
                    Active a = new Active(i, seq, new Sampler(r.sampling()));
                    a.sampler.observe(r.prompt());
                    float[] logits = session.prefill(seq, r.prompt());
                    if (r.maxNewTokens() == 0) {
                        session.leave(seq);
                        results[i] = new Result(new int[0], StopReason.BUDGET);
                        continue;
                    }
                    if (accept(a.index, a.out, a.sampler.next(logits), r, eos, listener, results)) session.leave(seq);
                    else {
                        a.last = a.out.getLast();
                        active.add(a);
                    }
                }
                if (active.isEmpty()) continue;
                int[] seqs = active.stream().mapToInt(a -> a.seq).toArray();
                int[] tokens = active.stream().mapToInt(a -> a.last).toArray();
                float[][] logits = session.decode(seqs, tokens);
                List<Active> still = new ArrayList<>();
                for (int b = 0; b < active.size(); b++) {
                    Active a = active.get(b);
                    if (accept(a.index, a.out, a.sampler.next(logits[b]), requests.get(a.index), eos, listener, results))
                        session.leave(a.seq);
                    else {
                        a.last = a.out.getLast();
                        still.add(a);
                    }
                }
                active = still;
            }
        } catch (RuntimeException e) {
            for (Active a : active) session.leave(a.seq);
            throw e;
        }
        return Arrays.asList(results);
    }

    /** Appends the token, reports it; true (and the result filled) when this request is done. */
    private static boolean accept(int index, List<Integer> out, int token, Request r, Set<Integer> eos, TokenListener listener,
                                  Result[] results) {
        out.add(token);
        boolean more = listener == null || listener.onToken(index, token);
        StopReason reason = eos.contains(token) ? StopReason.END_OF_SEQUENCE
                : out.size() >= r.maxNewTokens() ? StopReason.BUDGET : !more ? StopReason.STOPPED : null;
        if (reason == null) return false;
        results[index] = new Result(out.stream().mapToInt(Integer::intValue).toArray(), reason);
        return true;
    }
}
