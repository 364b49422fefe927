// Plans: calls recorded between mamba4j_plan_begin and _end do not run then; running the
// plan makes the same calls, reading their memory when it runs; checks run again; misuse
// is an error, never a crash.
#include "harness.h"

using namespace harness;

namespace {

// One decode-like step: xn = rmsnorm(h) · w; h += xn · Wᵀ (W [D, D]): a residual update,
// so each run of the step changes its own input.
struct Step {
    static constexpr int64_t D = 48;
    std::vector<float> h = normal(D), w = uniform(D, 0.5f, 1.5f), W = normal(D * D, 0.1f), xn = std::vector<float>(D);

    void calls(mamba4j_context* ctx) {
        mamba4j_rmsnorm_args n{};
        n.rows = 1, n.dim = D, n.dtype = n.weight_dtype = MAMBA4J_F32, n.x = h.data(), n.x_stride = D, n.w = w.data();
        n.y = xn.data(), n.y_stride = D, n.eps = 1e-5f;
        expect_ok(mamba4j_rmsnorm(ctx, &n), "rmsnorm");
        mamba4j_matmul_args m{};
        m.m = 1, m.n = D, m.k = D, m.dtype = m.weight_dtype = MAMBA4J_F32, m.x = xn.data(), m.x_stride = D;
        m.w = W.data(), m.y = h.data(), m.y_stride = D, m.accumulate = 1;
        expect_ok(mamba4j_matmul(ctx, &m), "matmul");
    }
};

mamba4j_plan* record(mamba4j_context* ctx, Step& s) {
    expect_ok(mamba4j_plan_begin(ctx), "plan_begin");
    s.calls(ctx);
    mamba4j_plan* plan = nullptr;
    expect_ok(mamba4j_plan_end(ctx, &plan), "plan_end");
    return plan;
}

void replays_the_calls() {
    mamba4j_context* ctx = cpu_context();
    Step planned, direct;
    direct.h = planned.h;  // the same weights and start
    direct.w = planned.w;
    direct.W = planned.W;
    const std::vector<float> before = planned.h;
    mamba4j_plan* plan = record(ctx, planned);
    expect(planned.h == before, "recording runs nothing: h unchanged");
    int64_t calls = 0;
    expect_ok(mamba4j_plan_size(plan, &calls), "plan_size");
    expect(calls == 2, "two calls recorded, got " + std::to_string(calls));
    for (int step = 0; step < 3; step++) {  // each run reads h as the previous run left it
        expect_ok(mamba4j_plan_run(ctx, plan), "plan_run");
        direct.calls(ctx);
        expect(planned.h == direct.h, "plan run " + std::to_string(step) + " equals the direct calls bit for bit");
    }
    const std::vector<float> fresh = normal(Step::D);
    std::copy(fresh.begin(), fresh.end(), planned.h.begin());  // new input, written in place
    direct.h = fresh;
    expect_ok(mamba4j_plan_run(ctx, plan), "plan_run on new input");
    direct.calls(ctx);
    expect(planned.h == direct.h, "a plan reads its inputs when it runs");
    expect_ok(mamba4j_plan_destroy(plan), "plan_destroy");
}

void checks_when_recording_and_when_running() {
    mamba4j_context* ctx = cpu_context();
    // attention over a 4-token cache: positions are read at run time and checked then
    const int64_t H = 2, d = 8, T = 4;
    std::vector<float> q = normal(H * d), k = normal(H * d), v = normal(H * d), out(H * d);
    std::vector<float> kc(T * H * d), vc(T * H * d);
    int32_t start = 0;
    mamba4j_attention_args a{};
    a.batch = 1, a.seqlen = 1, a.q_heads = H, a.kv_heads = H, a.head_dim = d, a.capacity = T, a.slot_count = 1;
    a.dtype = MAMBA4J_F32, a.q = q.data(), a.q_stride_b = a.q_stride_t = H * d, a.k = k.data(), a.v = v.data();
    a.kv_stride_b = a.kv_stride_t = H * d, a.k_cache = kc.data(), a.v_cache = vc.data(), a.start_pos = &start;
    a.out = out.data(), a.out_stride_b = a.out_stride_t = H * d, a.scale = 0.35f;

    expect_ok(mamba4j_plan_begin(ctx), "plan_begin");
    expect_error(mamba4j_plan_begin(ctx), MAMBA4J_ERR_INVALID_ARGUMENT, "already recording", "begin twice");
    mamba4j_attention_args bad = a;
    bad.q = nullptr;
    expect_error(mamba4j_attention(ctx, &bad), MAMBA4J_ERR_INVALID_ARGUMENT, "q is a null pointer", "checked when recorded");
    expect_ok(mamba4j_attention(ctx, &a), "attention recorded");
    mamba4j_plan* plan = nullptr;
    expect_ok(mamba4j_plan_end(ctx, &plan), "plan_end");
    int64_t calls = 0;
    expect_ok(mamba4j_plan_size(plan, &calls), "plan_size");
    expect(calls == 1, "the failed call is not recorded");
    expect(kc == std::vector<float>(T * H * d), "recording wrote no cache row");

    for (start = 0; start < T; start++) expect_ok(mamba4j_plan_run(ctx, plan), "run at position " + std::to_string(start));
    expect(std::equal(kc.end() - H * d, kc.end(), k.begin()), "the last run wrote k at the position it read then (3)");
    start = T;  // past the cache: the run's own check refuses it
    expect_error(mamba4j_plan_run(ctx, plan), MAMBA4J_ERR_INVALID_ARGUMENT, "call 1 of 1: mamba4j_attention:",
                 "checked again when run");
    expect_ok(mamba4j_plan_destroy(plan), "plan_destroy");

    expect_error(mamba4j_plan_end(ctx, &plan), MAMBA4J_ERR_INVALID_ARGUMENT, "not recording", "end without begin");
    expect_error(mamba4j_plan_run(ctx, nullptr), MAMBA4J_ERR_INVALID_ARGUMENT, "plan is a null pointer", "null plan");
    expect_error(mamba4j_plan_size(nullptr, &calls), MAMBA4J_ERR_INVALID_ARGUMENT, "plan is a null pointer", "null plan");
    expect_ok(mamba4j_plan_destroy(nullptr), "destroying null is a no-op");
}

void a_context_closed_while_recording() {
    mamba4j_context* ctx = nullptr;
    expect_ok(mamba4j_context_create(MAMBA4J_BACKEND_CPU, 0, &ctx), "context_create");
    Step s;
    expect_ok(mamba4j_plan_begin(ctx), "plan_begin");
    s.calls(ctx);
    expect_ok(mamba4j_context_destroy(ctx), "destroy frees the unfinished plan");
}

}  // namespace

int main() {
    replays_the_calls();
    checks_when_recording_and_when_running();
    a_context_closed_while_recording();
    return finish();
}
