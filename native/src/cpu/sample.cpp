// Token sampling on the CPU, the definition of mamba4j.h line by line, in fp64:
//   greedy: argmax (lowest id on ties)
//   else:   sort ids by logit (descending, lower id first on ties); w = exp((x − max) / T);
//           top-k, top-p (over the top-k mass), min-p (w >= min_p) shorten the sorted prefix;
//           then the first kept id, in id order, whose inclusive cumulative w exceeds u·S.
// One row at a time (a sort of the vocabulary per row; this is the reference, the runtime's
// CPU path keeps its Java Sampler).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "../kernels.h"
#include "cpu.h"

namespace mamba4j::cpu {

static int32_t sample_row(const mamba4j_sample_args& a, int64_t b) {
    const int64_t V = a.vocab;
    std::vector<float> x(static_cast<size_t>(V));
    for (int64_t i = 0; i < V; i++) {
        x[size_t(i)] = load(a.logits, a.dtype, b * a.logits_stride + i);
        if (std::isnan(x[size_t(i)]))
            fail(MAMBA4J_ERR_INVALID_ARGUMENT, "row %lld: logits[%lld] is NaN", (long long)b, (long long)i);
    }
    int64_t best = 0;
    for (int64_t i = 1; i < V; i++)
        if (x[size_t(i)] > x[size_t(best)]) best = i;
    if (a.temperature <= 0.0f) return int32_t(best);
    const double max = x[size_t(best)];
    if (!std::isfinite(max))
        fail(MAMBA4J_ERR_INVALID_ARGUMENT, "row %lld: cannot sample: the largest logit is %g (id %lld)", (long long)b, max,
             (long long)best);

    std::vector<int32_t> order(static_cast<size_t>(V));
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int32_t i, int32_t j) { return x[i] > x[j] || (x[i] == x[j] && i < j); });
    std::vector<double> w(static_cast<size_t>(V));
    for (int64_t i = 0; i < V; i++) w[size_t(i)] = std::exp((double(x[size_t(i)]) - max) / double(a.temperature));

    int64_t n = a.top_k > 0 ? std::min<int64_t>(a.top_k, V) : V;
    if (a.top_p < 1.0f) {
        double total = 0;
        for (int64_t j = 0; j < n; j++) total += w[size_t(order[size_t(j)])];
        const double target = double(a.top_p) * total;
        double mass = 0;
        int64_t m = 0;
        while (m < n && mass < target) mass += w[size_t(order[size_t(m++)])];
        n = std::max<int64_t>(m, 1);
    }
    if (a.min_p > 0.0f) {
        int64_t m = 1;  // w of the first is 1 >= min_p
        while (m < n && w[size_t(order[size_t(m)])] >= double(a.min_p)) m++;
        n = m;
    }

    std::vector<char> kept(static_cast<size_t>(V), 0);
    double total = 0;
    for (int64_t j = 0; j < n; j++) {
        kept[size_t(order[size_t(j)])] = 1;
        total += w[size_t(order[size_t(j)])];
    }
    const double target = double(a.uniforms[b]) * total;
    double cum = 0;
    int32_t last = -1;
    for (int64_t i = 0; i < V; i++) {
        if (!kept[size_t(i)]) continue;
        cum += w[size_t(i)];
        last = int32_t(i);
        if (cum > target) return last;
    }
    return last;
}

void sample(const mamba4j_sample_args& a) {
    for (int64_t b = 0; b < a.batch; b++) a.out_ids[b] = sample_row(a, b);
}

}  // namespace mamba4j::cpu
